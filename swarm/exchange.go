package swarm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
)

// Why a call to a worker gave no usable answer.
var (
	errDeadline     = errors.New("no answer within the deadline")
	errNoResponders = errors.New("no worker serves it")
)

// exchange matches answers to the router's open calls. Every call has its
// own reply subject (the router's inbox, the batch id, the step and a tag),
// so an answer after its call was given up (late) or a second answer to one
// call (duplicate) is recognised, counted and dropped.
type exchange struct {
	nc    *nats.Conn
	inbox string
	sub   *nats.Subscription

	mu                   sync.Mutex
	pending              map[string]chan *nats.Msg
	settled              map[string]settlement // how each closed call ended
	late, duplicate, odd int
	newest               int // the highest batch id settled
}

// keepBatches is how many batches back the exchange remembers closed calls:
// an answer older than that is counted as unmatched rather than late, and a
// router that runs for days holds a bounded record.
const keepBatches = 4096

func newExchange(nc *nats.Conn) (*exchange, error) {
	x := &exchange{nc: nc, inbox: nats.NewInbox(), pending: map[string]chan *nats.Msg{}, settled: map[string]settlement{}}
	sub, err := nc.Subscribe(x.inbox+".>", x.deliver)
	if err != nil {
		return nil, fmt.Errorf("router: subscribe to its inbox: %w", err)
	}
	sub.SetPendingLimits(-1, -1) // answers are few and must not be dropped
	x.sub = sub
	return x, nil
}

func (x *exchange) close() { x.sub.Unsubscribe() }

// token names a call: batch, step and tag (which probe or try).
func token(batch, step int, tag string) string {
	return strconv.Itoa(batch) + "." + strconv.Itoa(step) + "." + tag
}

// send opens a call under tok and publishes it; the answer arrives on ch.
func (x *exchange) send(subject, tok string, hdr nats.Header, data []byte, ch chan *nats.Msg) error {
	x.mu.Lock()
	x.pending[tok] = ch
	x.mu.Unlock()
	m := &nats.Msg{Subject: subject, Reply: x.inbox + "." + tok, Header: hdr, Data: data}
	if err := x.nc.PublishMsg(m); err != nil {
		x.giveUp(tok, expired)
		return err
	}
	return nil
}

// settlement is how a call ended.
type settlement int8

const (
	answered  settlement = iota + 1
	expired              // given up at its deadline: an answer now is late
	withdrawn            // not needed any more (a probe another worker won): an answer now is dropped silently
)

// giveUp closes a call that is still open; how says why.
func (x *exchange) giveUp(tok string, how settlement) {
	x.mu.Lock()
	if _, ok := x.pending[tok]; ok {
		delete(x.pending, tok)
		x.settle(tok, how)
	}
	x.mu.Unlock()
}

// settle records how a call ended and forgets the calls of batches more
// than keepBatches older than the newest. mu is held.
func (x *exchange) settle(tok string, how settlement) {
	x.settled[tok] = how
	b := tokenBatch(tok)
	if b <= x.newest {
		return
	}
	x.newest = b
	if b%keepBatches != 0 {
		return
	}
	for t := range x.settled {
		if tokenBatch(t) < b-keepBatches {
			delete(x.settled, t)
		}
	}
}

// tokenBatch is the batch id a token begins with.
func tokenBatch(tok string) int {
	b, _, _ := strings.Cut(tok, ".")
	n, _ := strconv.Atoi(b)
	return n
}

// tokenOf is the token of the call an answer arrived for.
func (x *exchange) tokenOf(m *nats.Msg) string { return strings.TrimPrefix(m.Subject, x.inbox+".") }

// deliver takes one message on the inbox to its call, or counts it.
func (x *exchange) deliver(m *nats.Msg) {
	tok := x.tokenOf(m)
	x.mu.Lock()
	defer x.mu.Unlock()
	ch, open := x.pending[tok]
	if !open {
		switch x.settled[tok] {
		case answered:
			x.duplicate++
		case expired:
			x.late++
		case withdrawn:
		default:
			x.odd++
		}
		return
	}
	if m.Header.Get(hdrStatus) == "" && m.Header.Get(hdrBatch) != strconv.Itoa(tokenBatch(tok)) {
		x.odd++ // an answer naming another batch than its call: not this call's
		return
	}
	delete(x.pending, tok)
	x.settle(tok, answered)
	ch <- m
}

// counts returns the late, duplicate and unmatched answers dropped so far.
func (x *exchange) counts() (late, duplicate, odd int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.late, x.duplicate, x.odd
}

// outcome reads an answer: the message, or why it is not one.
func outcome(m *nats.Msg) (*nats.Msg, error) {
	if m.Header.Get(hdrStatus) == "503" {
		return nil, errNoResponders
	}
	if e := m.Header.Get(hdrError); e != "" {
		return nil, fmt.Errorf("worker %s: %s", m.Header.Get(hdrWorker), e)
	}
	return m, nil
}
