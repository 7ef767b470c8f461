"""Sign-up and tokens."""
