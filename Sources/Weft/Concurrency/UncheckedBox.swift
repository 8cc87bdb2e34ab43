import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization

/// Reactor-owned objects carried through another thread untouched.
struct UncheckedBox<T>: @unchecked Sendable { let value: T }
