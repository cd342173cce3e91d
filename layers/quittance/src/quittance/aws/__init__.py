"""Small typed adapters over boto3: the only place in the domain package that talks to AWS."""
