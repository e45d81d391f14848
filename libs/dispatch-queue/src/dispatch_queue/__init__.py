"""The RabbitMQ contract shared by the outbox relay (campaign-api) and the dispatch worker."""
