package engine

import (
	"crypto/rand"
)

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newID returns prefix and 24 random letters and digits, as the hosted API
// makes ids: asst_…, thread_…, msg_…, run_…, step_…, call_…, file-….
func newID(prefix string) string {
	b := make([]byte, 24)
	rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}

func ptr[T any](v T) *T { return &v }
