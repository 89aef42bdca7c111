"""AWS Signature Version 4: parse, canonicalize, verify, aws-chunked bodies, presign (see satchel.signing)."""
