"""What moto's SageMaker lacks for the deploy tests, and what every created resource carries."""

from __future__ import annotations

import json

TAG_KEYS = {"CostCenter", "Env", "Model", "Client", "Owner"}


def update_endpoint(self):
    """``UpdateEndpoint`` for moto's SageMakerResponse: what SageMaker does once the update
    has gone through, the endpoint on the new config and its variants."""
    endpoint = self.sagemaker_backend.endpoints[self._get_param("EndpointName")]
    config = self.sagemaker_backend.describe_endpoint_config(self._get_param("EndpointConfigName"))
    endpoint.endpoint_config_name = config["EndpointConfigName"]
    endpoint.production_variants = endpoint._process_production_variants(
        config["ProductionVariants"]
    )
    return json.dumps({"EndpointArn": endpoint.arn})
