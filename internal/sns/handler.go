package sns

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Handler is an HTTP(S) endpoint for an SNS subscription. It answers:
//
//   - 405 to anything but POST;
//   - 400 to a body that is not an SNS message, or whose x-amz-sns-message-type header
//     disagrees with its Type;
//   - 403 to a message Verify refuses (wrong topic, signature version, certificate URL,
//     signature): SNS does not retry a 4xx;
//   - 200 to a verified SubscriptionConfirmation once SubscribeURL is visited (502 if
//     that fails), and to an UnsubscribeConfirmation (logged, nothing else);
//   - for a verified Notification, 200 when Notify returns nil and 500 otherwise, so
//     that SNS delivers it again later.
//
// Every refusal is logged at warn level with its reason, the topic and the message ID.
type Handler struct {
	Verifier *Verifier
	// Notify receives each verified notification. It should return quickly (SNS waits
	// at most 15s for an answer): queue long work.
	Notify func(ctx context.Context, m *Message) error
	// Log defaults to discarding.
	Log *slog.Logger
}

func (h *Handler) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

// ServeHTTP handles one delivery.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.log()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, MaxMessageSize+1))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	m, err := Parse(data)
	if err != nil {
		log.Warn("refused SNS message: not a valid message", "reason", err, "remote", r.RemoteAddr)
		http.Error(w, "not an SNS message", http.StatusBadRequest)
		return
	}
	if t := r.Header.Get("x-amz-sns-message-type"); t != "" && t != m.Type {
		log.Warn("refused SNS message: header and body disagree", "header", t, "type", m.Type, "message_id", m.MessageID)
		http.Error(w, "message type mismatch", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 12*time.Second)
	defer cancel()
	if err := h.Verifier.Verify(ctx, m); err != nil {
		log.Warn("refused SNS message: "+refusal(err), "reason", err, "topic", m.TopicARN, "type", m.Type, "message_id", m.MessageID)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	switch m.Type {
	case TypeSubscriptionConfirmation:
		if err := h.Verifier.Confirm(ctx, m); err != nil {
			log.Error("could not confirm the SNS subscription", "topic", m.TopicARN, "err", err)
			http.Error(w, "confirmation failed", http.StatusBadGateway)
			return
		}
		log.Info("confirmed the SNS subscription", "topic", m.TopicARN)
	case TypeUnsubscribeConfirmation:
		log.Warn("the SNS subscription was removed: notifications stop, the periodic poll goes on", "topic", m.TopicARN)
	case TypeNotification:
		if err := h.Notify(ctx, m); err != nil {
			log.Error("notification not processed: SNS will deliver it again", "topic", m.TopicARN, "message_id", m.MessageID, "err", err)
			http.Error(w, "not processed", http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// refusal names the reason class of a Verify error for the log message.
func refusal(err error) string {
	for _, e := range []struct {
		err  error
		text string
	}{
		{ErrTopic, "topic not allowed"},
		{ErrSignatureVersion, "unsupported signature version"},
		{ErrCertURL, "untrusted certificate URL"},
		{ErrCertificate, "unusable certificate"},
		{ErrSignature, "bad signature"},
	} {
		if errors.Is(err, e.err) {
			return e.text
		}
	}
	return "not verified"
}
