"""The inference service: the champion's ONNX export behind HTTP (SageMaker or standalone).

``bundle`` writes a model directory at training time (ONNX graphs + ``serving.json``: the
feature schema and the closed-form last step's parameters); ``predictor`` loads one with
onnxruntime and NumPy alone; ``app`` is the ASGI app; ``main`` the ``serve`` entrypoint.
"""
