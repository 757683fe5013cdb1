ACME_REGION = "eu-west-3"
