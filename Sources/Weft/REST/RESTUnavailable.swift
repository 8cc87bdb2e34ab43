/// Why the REST API cannot submit transactions on this peer (answered 503).
struct RESTUnavailable: Error { let reason: String }
