package reqpath

import "strings"

// HostilePaths are request paths Clean must refuse. They live outside the tests so that
// every layer (this package, the gateway over HTTP) is tested against the same list.
var HostilePaths = []string{
	"/..",
	"/../etc/passwd",
	"/a/../../etc/passwd",
	"/a/..",
	"/%2e%2e/etc/passwd",
	"/%2E%2E/etc/passwd",
	"/.%2e/x",
	"/%2e./x",
	"/a%2f..%2fb",
	"/a%2Fb",
	"/a%5cb",
	"/a%5C..%5Cb",
	"/a\\b",
	"/..\\etc",
	"/a%00b",
	"/a\x00b",
	"/%252e%252e/etc/passwd",
	"/%252f",
	"/%c0%ae%c0%ae/etc/passwd",
	"/%c0%af",
	"/%e0%80%ae",
	"/a%0d%0aSet-Cookie:x",
	"/a%09b",
	"/a%7f",
	"/%",
	"/%zz",
	"/a%2",
	"relative",
	"*",
	"/" + strings.Repeat("a", MaxLen),
}
