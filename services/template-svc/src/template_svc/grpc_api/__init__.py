"""The gRPC edge: the TemplateService servicer, its interceptors and the server that hosts them."""
