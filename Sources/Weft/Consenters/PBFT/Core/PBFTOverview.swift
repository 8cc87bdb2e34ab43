// PBFT core: the host's contract (for the adapter that runs PBFTReplica in the peer).
//
// Core/ is the protocol alone: no Dispatch, no Glibc, no clock, no file or socket
// (CoreIsPureTests greps for them). Host/ (PBFTHost and its parts) is everything
// around it, reaching the world through ports: Communicator, PBFTClock, PBFTLedger,
// PBFTRecordStore; PBFTConsenter builds the real ones.
//
// Files: PBFTOptions (knobs, quorum), RequestKey, PBFTAction, PBFTCounters, PBFTViewChangeReason,
// PBFTDigest / PBFTEncoding (batch digest; deterministic encoding), RequestPool
// (outstanding requests), MessageLog (certificates), Checkpoints, PBFTReplica (normal
// case, checkpoints), ViewChange + ViewChangeRules (view change, NEW-VIEW, fetch,
// state transfer, null requests), Persistence (records), PBFTReady (outputs by kind).
//
// Inputs, all on one serial queue:
// - receiveRequest(_:) for a client's request (wrapped by this validator: its replica id,
//   a strictly increasing timestamp) and for each request another validator spreads.
//   The host spreads its own clients' requests to every other validator itself
//   (batch_message.request), and again on `.resendRequests`.
// - receive(_:from:) for every decoded pbft.message; `from` = the replica of the connection.
//   Set `options.viewChangesVerified` only if the host checks the signature of every
//   VIEW-CHANGE it passes in, each one a NEW-VIEW relays included (TLS on); otherwise a
//   NEW-VIEW is installed only once its vset equals VIEW-CHANGEs received directly.
// - tick() at a fixed period. The option defaults (batch 1, request 2, view change 2,
//   resend 2 ticks) are Fabric's defaults with 1 tick = 1 s; scale them for a finer tick.
// - executed(sequence:checkpointID:) after each `.execute`, in order, null requests
//   (batch nil) included; checkpointID = BlockAssembler.checkpointID after it.
// - stateTransferCompleted(sequence:checkpointID:requestStamps:) once the ledger holds the target
//   of a `.stateTransfer`; executions still queued below it are to be dropped.
// - stateTransferFailed(sequence:) when the host cannot start a `.stateTransfer` (its
//   checkpoint id does not decode): the replica drops that target and asks for another.
// Outputs: takeReady() after each input: a PBFTReady whose `records` are stored before
// any of its `messages` is sent (a host that cannot store them sends nothing), then its
// `committed` batches executed in order, then its `notices` handled. (takeActions() gives
// the same outputs unsorted, in the order they were made.) Every message is encoded with
// PBFTEncoding.bytes (NEW-VIEW's xset is a map).
//
// Restart: PBFTReplica(id:options:lastExecuted:lastCheckpointID:restoring:) with the
// ledger's last sequence number (Pbft_metadata.seqNo of the last block), the
// BlockAssembler's checkpointID for that ledger, and every stored record. Restarted in a
// view it never installed (a view change under way), it comes back in that view change.
// Its low watermark h is the stored stable checkpoint; lastExecuted may be above it.
