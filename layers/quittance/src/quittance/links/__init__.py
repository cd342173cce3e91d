"""Customer links: the signed tokens behind ``GET /r/{token}`` and the pages they lead to.

A link must keep working for about 13 months and survive key rotation, so it is our own
HMAC token rather than an S3 presigned URL (those die after 7 days at most); the handler
presigns a fresh S3 URL only when the customer actually clicks "download".
"""
