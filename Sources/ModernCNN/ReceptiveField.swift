// ReceptiveField.swift: which input pixels one output unit of a layer can see.
//
// Along one axis, a stack of sliding windows (convolutions, pools) is described after each
// layer by three numbers, computed from the previous layer's by the standard recurrence:
// - size: how many input pixels one unit sees: size += (kernel - 1) * jump;
// - jump: how far apart, in input pixels, two neighbouring units' fields are: jump *= stride;
// - start: the input coordinate of the first unit's centre: start += ((kernel - 1) / 2 - padding) * jump.
// Unit i of the layer is centred on start + i * jump and sees `size` pixels around it (fewer at
// the border, where some of them are padding). Square windows, so one axis says it all.

public struct ReceptiveField: Equatable, Sendable, CustomStringConvertible {
    public let size: Int, jump: Int
    /// May be fractional: an even window's centre falls between two pixels.
    public let start: Double

    /// One input pixel sees itself.
    public static let pixel = ReceptiveField(size: 1, jump: 1, start: 0)

    public init(size: Int, jump: Int, start: Double) { (self.size, self.jump, self.start) = (size, jump, start) }

    // snippet: receptive-field-recurrence
    /// The field after a window of `kernel` pixels moved by `stride`, over input padded by `padding`.
    public func after(kernel: Int, stride: Int, padding: Int) -> ReceptiveField {
        ReceptiveField(
            size: size + (kernel - 1) * jump, jump: jump * stride,
            start: start + (Double(kernel - 1) / 2 - Double(padding)) * Double(jump))
    }
    // end snippet: receptive-field-recurrence

    /// The field after `layer`: changed by convolutions and pools, kept by layers that act on
    /// each value alone (activations, dropout, normalisation across channels), nil after a
    /// layer that mixes every position (flatten, dense, global pooling): from there on a unit
    /// sees the whole input.
    public func after(_ layer: any Layer) -> ReceptiveField? {
        if let window = layer as? any SlidingWindowLayer {
            return after(kernel: window.kernelSize, stride: window.stride, padding: window.padding)
        }
        switch layer {
        case is Flatten, is Linear, is AdaptiveAvgPool2d: return nil
        default: return self
        }
    }

    /// The input pixels (along one axis, inside an input of `inputSize`) that unit `index` sees.
    /// The recurrence does not know where a strided layer's last window stops: when its output
    /// size is floored ((n + 2p - k) / s not whole), the last pixels are read by no window, and
    /// the fields of the units at that border include pixels that cannot move them.
    public func pixels(ofUnit index: Int, inputSize: Int) -> ClosedRange<Int> {
        let centre = start + Double(index * jump)
        let low = Int((centre - Double(size - 1) / 2).rounded(.up))
        return max(0, low)...min(inputSize - 1, low + size - 1)
    }

    public var description: String { "\(size) (jump \(jump), start \(start.formattedShort))" }

    /// Each plain layer of `model` in order (containers opened) with the field of its outputs;
    /// nil from the first layer that mixes all positions on. For a stack of layers (Sequentials
    /// within Sequentials): the branches of a multi-branch block (Concat) each have a field of
    /// their own, which this walk, taking every layer as the next, does not compute.
    public static func perLayer(of model: any Layer) -> [(layer: any Layer, field: ReceptiveField?)] {
        var field: ReceptiveField? = .pixel
        return model.allLayers.filter { $0.children.isEmpty }.map { layer in
            field = field?.after(layer)
            return (layer, field)
        }
    }
}

extension Double {
    /// 3 for 3.0, 3.5 for 3.5: a start is a whole or a half pixel.
    fileprivate var formattedShort: String {
        rounded() == self ? String(Int(self)) : String(self)
    }
}
