package route

// OverlapURL reports whether a request can be both covered by a CloudFront resource
// path and routed by a route pattern: whether some escaped request path E (with or
// without "?" and a query) matches resourcePath, while the decoded path of E matches
// routePattern. The two live in different spaces: a signed resource is matched against
// the path as the client sent it, percent-escapes and all (signedauth uses
// URL.EscapedPath, which is always ASCII), and a route against the decoded path. So
// "/%62oss/x" is covered by the resource "/%62oss/*" and routed by "/boss/*".
//
// It answers by walking both patterns over E one byte at a time: the resource side
// needs E's byte to fit its element (a literal byte, '?' one byte, '*' any run); the
// route side reads E as it decodes, each of its literals written plain or as a
// %XX escape (either case of hex), its '?' (one character) as one plain byte or one or
// more escapes, its '*' as anything. After the route's end, E may go on with '?' and a
// query. The states are positions in each pattern and in an escape, each visited once.
// The answer errs only towards true: a '?' of the route may stand for more than one
// character.
func OverlapURL(resourcePath, routePattern string) bool {
	r, p := resourcePath, routePattern
	type state struct {
		i, j int  // positions in r and p
		sub  int  // 0 outside an escape; 1 after its '%'; 2 after its first hex digit
		q    bool // in the query: p has been matched, anything may follow
	}
	seen := map[state]bool{}
	var stack []state
	push := func(s state) {
		if !seen[s] {
			seen[s] = true
			stack = append(stack, s)
		}
	}
	// fits reports whether the resource element at i can take byte class c, and where
	// it goes then.
	fits := func(i int, c class) (int, bool) {
		if i >= len(r) {
			return 0, false
		}
		switch r[i] {
		case '*':
			return i, true
		case '?':
			return i + 1, true
		}
		return i + 1, c.has(r[i])
	}
	push(state{})
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if s.i == len(r) && (s.q || s.j == len(p) && s.sub == 0) {
			return true
		}
		if s.i < len(r) && r[s.i] == '*' {
			push(state{s.i + 1, s.j, s.sub, s.q})
		}
		step := func(c class, next state) {
			if ni, ok := fits(s.i, c); ok {
				next.i = ni
				push(next)
			}
		}
		switch {
		case s.q:
			step(anyASCII, s)
		case s.sub == 0 && s.j == len(p):
			step(only('?'), state{j: s.j, q: true})
		case s.sub == 0 && p[s.j] == '*':
			push(state{s.i, s.j + 1, 0, false})
			step(anyASCII, state{j: s.j})
		case s.sub == 0 && p[s.j] == '?':
			step(plainASCII, state{j: s.j + 1})
			step(only('%'), state{j: s.j, sub: 1})
		case s.sub == 0:
			if b := p[s.j]; b < 0x80 && b != '%' {
				step(only(b), state{j: s.j + 1})
			}
			step(only('%'), state{j: s.j, sub: 1})
		case p[s.j] == '?':
			// Any escaped byte; a character may take several, so after one the route's
			// '?' may be done or go on.
			if s.sub == 1 {
				step(hexDigit, state{j: s.j, sub: 2})
			} else {
				step(hexDigit, state{j: s.j + 1})
				step(hexDigit, state{j: s.j})
			}
		default:
			b := p[s.j]
			if s.sub == 1 {
				step(hexOf(b>>4), state{j: s.j, sub: 2})
			} else {
				step(hexOf(b&15), state{j: s.j + 1})
			}
		}
	}
	return false
}

// class is a set of ASCII bytes.
type class [2]uint64

func (c class) has(b byte) bool { return b < 128 && c[b>>6]&(1<<(b&63)) != 0 }

func only(bs ...byte) class {
	var c class
	for _, b := range bs {
		c[b>>6] |= 1 << (b & 63)
	}
	return c
}

var (
	anyASCII   = class{^uint64(0), ^uint64(0)}
	plainASCII = class{anyASCII[0] &^ only('%')[0], anyASCII[1]}
	hexDigit   = only([]byte("0123456789abcdefABCDEF")...)
)

// hexOf is the class of the hex digit for nibble n, in either case.
func hexOf(n byte) class {
	const lower, upper = "0123456789abcdef", "0123456789ABCDEF"
	return only(lower[n], upper[n])
}
