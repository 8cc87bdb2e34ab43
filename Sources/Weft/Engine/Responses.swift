import Foundation
import Logging
import Glibc

/// RESPONSE messages for clients.
public enum Responses {
    /// SUCCESS with the transaction's txid, or FAILURE naming why it is not a transaction.
    public static func forTransaction(_ message: Message) -> Message {
        guard let tx = try? Protos_Transaction(serializedBytes: message.payload) else {
            return response(.failure, "malformed transaction")
        }
        return response(.success, tx.txid)
    }

    public static func response(_ status: Protos_Response.StatusCode, _ text: String) -> Message {
        var response = Protos_Response()
        response.status = status
        response.msg = Data(text.utf8)
        let payload: [UInt8] = (try? response.serializedBytes()) ?? []
        return Message(type: .response, payload: payload)
    }
}
