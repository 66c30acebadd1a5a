package upload

import "net/http"

// serveUppy answers the Companion-compatible calls @uppy/aws-s3 makes under "s3/"
// (create, sign part, list parts, complete, abort, and the presigned parameters). This
// placeholder answers 404 until the Uppy endpoints land in this file.
func (e *Endpoint) serveUppy(w http.ResponseWriter, _ *http.Request, _ *Call) {
	writeError(w, http.StatusNotFound, "not found")
}
