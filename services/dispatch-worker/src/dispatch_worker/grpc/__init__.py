"""gRPC adapters: the template-svc client."""
