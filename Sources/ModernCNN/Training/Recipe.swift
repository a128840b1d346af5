// Recipe.swift: how a model is trained, as a chapter states it: its quick default and `--full`
// (d2l's recipe) are two Recipes, and single flags override either (TrainingOptions).

/// How a model is trained: what d2l calls the hyperparameters, plus how much data.
public struct Recipe: Sendable, Equatable {
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    /// Side of the (resized) square input images.
    public var imageSize: Int
    /// nil: all 60,000 training images.
    public var trainLimit: Int?
    /// nil: all 10,000 test images.
    public var testLimit: Int?

    public init(
        epochs: Int, batchSize: Int, learningRate: Float, imageSize: Int = FashionMNIST.side,
        trainLimit: Int? = nil, testLimit: Int? = nil
    ) {
        (self.epochs, self.batchSize, self.learningRate, self.imageSize) = (epochs, batchSize, learningRate, imageSize)
        (self.trainLimit, self.testLimit) = (trainLimit, testLimit)
    }
}
