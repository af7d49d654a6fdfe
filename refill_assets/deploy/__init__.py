"""Deploying the champion: SageMaker Serverless through boto3 (``sagemaker``)."""
