"""Models: incoming gateway events, domain objects, stored items and inter-function messages."""
