//! The state dumps keepalived writes on request: SIGUSR1's `/tmp/keepalived.data` and the JSON
//! signal's `/tmp/keepalived.json`. Pure formatting of what the router knows.
