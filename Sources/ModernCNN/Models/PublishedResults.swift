// PublishedResults.swift: the figures the book quotes rather than measures, each with its
// source, in one place. A chapter prints them beside what it measured; no chapter types them.

public enum PublishedResults {
    /// d2l's reported test accuracies on Fashion-MNIST, from the book's PyTorch build of the
    /// sections "Convolutional Neural Networks (LeNet)" (10 epochs, SGD lr 0.9, batch 256) and
    /// "Deep Convolutional Neural Networks (AlexNet)" (10 epochs, SGD lr 0.01, batch 128, 224 px).
    public static let d2lLeNetTestAccuracy = 0.779
    public static let d2lAlexNetTestAccuracy = 0.883
    /// The test accuracies d2l's builds of "Networks Using Blocks (VGG)" print for the small VGG
    /// (channels / 4; 10 epochs, SGD lr 0.05, batch 128, 224 px), lowest and highest seen.
    public static let d2lVGGTestAccuracyRange = (0.906, 0.924)
    /// The test accuracies d2l's builds of "Network in Network (NiN)" print (10 epochs, SGD lr
    /// 0.1, batch 128, 224 px): lowest, median and highest seen across the book's builds. About
    /// one build in four ended below 0.70, the lowest at 0.10, a constant guess.
    public static let d2lNiNTestAccuracy = (lowest: 0.10, median: 0.84, highest: 0.875)
    /// The test accuracies d2l's builds of "Multi-Branch Networks (GoogLeNet)" print (10 epochs,
    /// SGD lr 0.1, batch 128, 96 px), lowest and highest seen.
    public static let d2lGoogLeNetTestAccuracyRange = (0.854, 0.902)
    /// GoogLeNet's ILSVRC-2014 result as its paper reports it (Szegedy et al. 2014, table 3 and
    /// section 1): top-5 error of the 7-model ensemble with 144 crops per image, and of one
    /// model with one crop; the network has 22 layers with parameters.
    public static let googLeNetPaper = (
        ensembleTopFiveError: 6.67, singleModelOneCropTopFiveError: 10.07, layersWithParameters: 22
    )

    /// One ImageNet (ILSVRC) classifier as its paper reports it.
    public struct ImageNetModel: Sendable {
        public let name: String
        public let year: Int
        /// Top-5 error on the ILSVRC test set of the model's competition entry, in percent.
        public let topFiveError: Double
        /// Multiply-adds of one 224x224 image's forward pass, in billions, as the papers count.
        public let multiplyAdds: Double
        public let parameters: Double  // millions
        public let source: String
    }

    /// The ILSVRC entries the chapters compare AlexNet with.
    public static let imageNetModels: [ImageNetModel] = [
        .init(
            name: "AlexNet", year: 2012, topFiveError: 15.3, multiplyAdds: 0.72, parameters: 61,
            source: "Krizhevsky, Sutskever, Hinton 2012 (winning entry, 7 CNNs averaged); multiply-adds as "
                + "counted by Canziani et al. 2016"),
        .init(
            name: "VGG-16", year: 2014, topFiveError: 7.3, multiplyAdds: 15.5, parameters: 138,
            source: "Simonyan, Zisserman 2014 (ILSVRC-2014 submission); multiply-adds from He et al. 2015, table 3"),
        .init(
            name: "GoogLeNet", year: 2014, topFiveError: 6.67, multiplyAdds: 1.5, parameters: 6.8,
            source: "Szegedy et al. 2014 (winning entry; 1.5 billion multiply-adds at inference, section 1)"),
        .init(
            name: "ResNet-50", year: 2015, topFiveError: 3.57, multiplyAdds: 3.8, parameters: 25.6,
            source: "He et al. 2015 (3.57% is the ILSVRC-2015 winning ensemble; 3.8 billion multiply-adds "
                + "for ResNet-50, table 1)"),
    ]
}
