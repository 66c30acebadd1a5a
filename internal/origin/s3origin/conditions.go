package s3origin

import "github.com/gatehouse-dev/gatehouse/internal/origin"

// splitConditions returns the preconditions to send to S3 and those Get and Head must
// evaluate themselves on S3's answer (nil: none). S3 compares If-Match and
// If-None-Match as single strings: a list, a weak tag or "*" would be compared wrongly
// (a list holding the current ETag would fail), so such conditions are all evaluated
// here, with the same code as the cache and folder origins, and S3 is sent none. Get
// evaluates them on a HeadObject before asking for a body (see Bucket.Get).
func splitConditions(c origin.Conditions) (remote origin.Conditions, local *origin.Conditions) {
	if c.PlainTags() {
		return c, nil
	}
	return origin.Conditions{}, &c
}
