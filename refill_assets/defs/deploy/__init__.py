"""The champion to SageMaker Serverless: the deploy asset, its job and its sensor."""
