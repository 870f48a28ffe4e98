package notify_test

import (
	"io"
	"net/http"
	"os"
	"time"

	"github.com/trailalarm/trailalarm/internal/notify"
)

// A receiver checks each delivery before trusting it: the HMAC over "timestamp.body" with the
// shared secret, compared in constant time, and a timestamp within five minutes.
func ExampleVerifySignature() {
	secret := []byte(os.Getenv("TRAILALARM_WEBHOOK_SECRET"))
	http.HandleFunc("/trailalarm", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read error", http.StatusBadRequest)
			return
		}
		err = notify.VerifySignature(secret, r.Header.Get("X-Trailalarm-Timestamp"),
			r.Header.Get("X-Trailalarm-Signature"), body, time.Now(), 5*time.Minute)
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized) // 4xx: trailalarm will not retry
			return
		}
		// Deduplicate on r.Header.Get("X-Trailalarm-Id"): a retry carries the same id.
		w.WriteHeader(http.StatusNoContent)
	})
}
