"""RabbitMQ adapters: the job queue and the consumer loop."""
