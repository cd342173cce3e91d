"""Customer notifications: composing the messages (email today) that tell a customer their
payment arrived and where their receipt is. Sending, suppression and delivery status belong
to the adapters and the notify/feedback functions; this package only builds messages.
"""
