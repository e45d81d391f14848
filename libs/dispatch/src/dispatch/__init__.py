"""The dispatch context: the message lifecycle, its SQL, completion, the outbox relay, the queue topology and codec.

campaign-api calls its inserts and runs the relay; the worker calls its transitions. Nothing else touches
outbound_messages.
"""
