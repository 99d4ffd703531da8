package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"plotline/app"
)

// apiError is the OpenAI error shape.
type apiError struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func writeError(w http.ResponseWriter, status int, typ, param, code, msg string) {
	b := errorBody{Message: msg, Type: typ}
	if param != "" {
		b.Param = &param
	}
	if code != "" {
		b.Code = &code
	}
	writeJSON(w, status, apiError{Error: b})
}

// writeAzureError answers in Azure's error style.
func writeAzureError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// fail answers an engine error with the right status and shape.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	var ie *app.InputError
	var me *app.ModelError
	switch {
	case errors.As(err, &ie):
		writeError(w, http.StatusBadRequest, "invalid_request_error", ie.Param, "", ie.Message)
	case errors.Is(err, app.ErrNotFound):
		writeError(w, http.StatusNotFound, "invalid_request_error", "", "", notFoundMessage(err))
	case errors.Is(err, app.ErrThreadLocked):
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "", lockedMessage(err))
	case errors.Is(err, app.ErrTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "file", "file_too_large", "The file is larger than the limit.")
	case errors.As(err, &me) && me.Status == http.StatusTooManyRequests:
		writeError(w, http.StatusTooManyRequests, "rate_limit_error", "", "rate_limit_exceeded", me.Message)
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
	default:
		writeError(w, http.StatusInternalServerError, "server_error", "", "", "The server had an error while processing your request: "+err.Error())
	}
}

func notFoundMessage(err error) string {
	var nf *app.NotFoundError
	if errors.As(err, &nf) {
		return nf.Message()
	}
	return "Not found."
}

func lockedMessage(err error) string {
	var le *app.LockedError
	if errors.As(err, &le) {
		return le.Error()
	}
	return "The thread has an active run."
}
