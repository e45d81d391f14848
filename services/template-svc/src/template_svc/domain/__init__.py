"""Pure rules of the template service: the template language and the facts of a message on its channel."""
