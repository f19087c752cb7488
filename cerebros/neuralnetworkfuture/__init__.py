"""NeuralNetworkFuture (original import path ``cerebros.neuralnetworkfuture.neural_network_future``)."""
