/// What the layer above did with a frame.
enum Disposition {
    /// Done with; the next frame may follow.
    case handled
    /// Not this handler's: ask the next one.
    case pass
    /// Cannot take it now (ring full, backpressure): stop reading this
    /// connection and offer the same frame again later.
    case retryLater
}
