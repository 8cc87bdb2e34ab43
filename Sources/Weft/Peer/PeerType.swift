/// What a peer said it is in its DISC_HELLO: validator or not.
public typealias PeerType = Protos_PeerEndpoint.TypeEnum
