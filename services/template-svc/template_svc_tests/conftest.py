"""Fixtures of the template-svc tests: the real gRPC server over a real local channel."""
