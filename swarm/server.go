package swarm

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// MaxPayload is the largest message the embedded server takes: a batch of
// activations of a full-size ViT (64 images x 197 tokens x 768) is 39 MB.
const MaxPayload = 64 << 20

// Server is an embedded NATS server: one machine's swarm, and the tests'.
type Server struct {
	ns *server.Server
}

// StartServer starts a NATS server listening on addr ("127.0.0.1:0" picks
// a free port) and waits until it takes connections.
func StartServer(addr string) (*Server, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %v", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 {
		return nil, fmt.Errorf("--listen %q: bad port", addr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	ns, err := server.NewServer(&server.Options{Host: host, Port: port, MaxPayload: MaxPayload, NoSigs: true, NoLog: true})
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("nats server on %s did not start within 10 s", addr)
	}
	return &Server{ns: ns}, nil
}

// URL is the address clients connect to.
func (s *Server) URL() string { return s.ns.ClientURL() }

// Shutdown stops the server.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// Connect connects to a NATS server as name; a lost connection is retried
// for as long as the process lives, so workers survive a restarting server.
func Connect(url, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(200*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	return nc, nil
}
