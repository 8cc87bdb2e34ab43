import Foundation
import Glibc

/// Reads a peer's ledger, `<dataDirectory>/ledger/`, while the peer may be
/// appending to it, without disturbing it: only the durable prefix is
/// visible, the blocks the block index names (the writer adds an entry only
/// after the block's fsync; PROTOCOL.md section 5). A block costs two reads
/// (its index entry, its record, CRC-checked); a txid lookup, a few slots of
/// the txid index and the candidate blocks. Not thread-safe: one instance per thread.
public final class LedgerReader {
    public let blocksPath: String
    private let indexPath: String
    private let txidsPath: String
    private let records: BlockRecordReader
    private let index: BlockIndex
    private var txids: TxidIndex?

    public enum ReadError: Error, CustomStringConvertible {
        case noLedger(String)
        case noIndex(String)
        case damaged(String)
        public var description: String {
            switch self {
            case .noLedger(let path): return "no ledger at '\(path)' (the data directory is peer.fileSystemPath: --data-dir, CORE_PEER_FILESYSTEMPATH or core.yaml)"
            case .noIndex(let path): return "no ledger index at '\(path)': a peer of this version builds it when it starts"
            case .damaged(let text): return text
            }
        }
    }

    /// `dataDirectory`: the peer's `peer.fileSystemPath`.
    public init(dataDirectory: String) throws {
        let directory = (dataDirectory as NSString).appendingPathComponent("ledger")
        blocksPath = (directory as NSString).appendingPathComponent("blocks")
        indexPath = (directory as NSString).appendingPathComponent("index")
        txidsPath = (directory as NSString).appendingPathComponent("txids")
        guard let records = try BlockRecordReader(path: blocksPath) else { throw ReadError.noLedger(blocksPath) }
        guard let index = try BlockIndex.open(path: indexPath, writable: false) else { throw ReadError.noIndex(indexPath) }
        if let problem = try index.headerProblem() { throw ReadError.damaged("ledger index \(indexPath): \(problem) (a peer start rebuilds it)") }
        self.records = records
        self.index = index
    }

    public func chainInfo() throws -> ChainInfo {
        let height = try index.count()
        guard height > 0, let bytes = try blockBytes(height - 1) else {
            return ChainInfo(height: 0, currentBlockHash: [], previousBlockHash: [])
        }
        let block = try Protos_Block(serializedBytes: bytes)
        return ChainInfo(height: height, currentBlockHash: SHA256.hash(bytes), previousBlockHash: [UInt8](block.previousBlockHash))
    }

    /// The durable height: the blocks the index names. (An entry is counted
    /// once the file's size covers it, which the kernel updates after copying
    /// the bytes in: a reader never sees half an entry.)
    public func height() throws -> UInt64 { try chainInfo().height }

    /// The block `number`; nil past the durable height.
    public func block(_ number: UInt64) throws -> Protos_Block? {
        guard let bytes = try blockBytes(number) else { return nil }
        return try Protos_Block(serializedBytes: bytes)
    }

    /// The encoded block `number`, as stored; nil past the durable height.
    public func blockBytes(_ number: UInt64) throws -> [UInt8]? {
        let count = try index.count()
        guard number < count, let entry = try index.entry(number) else { return nil }
        if let bytes = try records.body(entry) { return bytes }
        throw ReadError.damaged("ledger \(blocksPath): block \(number) is not where \(indexPath) says (offset \(entry.offset)): the block file is damaged (weft ledger verify) or the index is (a peer start rebuilds it)")
    }

    /// Where the durable blocks end in the block file (0 for none): bytes after
    /// it are a record being written, or a torn tail the next start cuts off.
    public func durableEnd() throws -> Int {
        let height = try chainInfo().height
        guard height > 0, let last = try index.entry(height - 1) else { return 0 }
        return last.end
    }

    /// The first transaction in the chain with this txid, and its block's number; nil if no durable block holds it.
    public func transaction(txid: String) throws -> (blockNumber: UInt64, transaction: Protos_Transaction)? {
        if let found = try lookUp(txid) { return found }
        // The writer may have replaced the table (it grew): look again in the new one.
        guard let open = txids, let current = try FileIO.open(txidsPath, O_RDONLY) else { return nil }
        let replaced = current.inode() != open.file.inode()
        current.close()
        guard replaced else { return nil }
        txids = nil
        return try lookUp(txid)
    }

    private func lookUp(_ txid: String) throws -> (blockNumber: UInt64, transaction: Protos_Transaction)? {
        for number in try txidIndex().candidates(txid).sorted() {
            guard let block = try block(number) else { continue }
            if let tx = block.transactions.first(where: { $0.txid == txid }) { return (number, tx) }
        }
        return nil
    }

    private func txidIndex() throws -> TxidIndex {
        if let txids { return txids }
        do {
            guard let opened = try TxidIndex.open(path: txidsPath, writable: false) else {
                throw ReadError.noIndex(txidsPath)
            }
            txids = opened
            return opened
        } catch let damaged as TxidIndex.Damaged {
            throw ReadError.damaged("ledger txid index \(txidsPath): \(damaged.reason) (a peer start rebuilds it)")
        }
    }
}
