package route

// tok is one element of a pattern: a literal rune, '?' (any one rune) or '*' (any run of
// runes, the empty run included).
type tok struct {
	kind byte // 'l' literal, '?' one rune, '*' any run
	r    rune
}

func tokens(p string) []tok {
	out := make([]tok, 0, len(p))
	for _, r := range p {
		switch r {
		case '*':
			out = append(out, tok{kind: '*'})
		case '?':
			out = append(out, tok{kind: '?'})
		default:
			out = append(out, tok{kind: 'l', r: r})
		}
	}
	return out
}

// Overlap reports whether some path matches both patterns (the pattern syntax of
// Compile: '*' any run of characters, '?' one character). "*" overlaps everything.
//
// It decides the intersection of the two patterns exactly, by walking both at once: a
// state is a position in each, '*' may match nothing (skip it) or one more character,
// and two positions may advance together when some character satisfies both. There are
// at most (len(a)+1)*(len(b)+1) states, each visited once.
func Overlap(a, b string) bool { return overlap(tokens(a), tokens(b)) }

// OverlapURL reports whether a CloudFront resource's path part (pattern syntax, matched
// against the path and, when there is one, "?" and the query) can match a request whose
// path matches routePattern (matched against the path alone). It is Overlap, with the
// route side allowed to continue with a literal '?' and any query.
func OverlapURL(resourcePath, routePattern string) bool {
	a, b := tokens(resourcePath), tokens(routePattern)
	if overlap(a, b) {
		return true
	}
	return overlap(a, append(b, tok{kind: 'l', r: '?'}, tok{kind: '*'}))
}

func overlap(a, b []tok) bool {
	w := len(b) + 1
	seen := make([]bool, (len(a)+1)*w)
	var stack [][2]int
	push := func(i, j int) {
		if !seen[i*w+j] {
			seen[i*w+j] = true
			stack = append(stack, [2]int{i, j})
		}
	}
	push(0, 0)
	for len(stack) > 0 {
		i, j := stack[len(stack)-1][0], stack[len(stack)-1][1]
		stack = stack[:len(stack)-1]
		if i == len(a) && j == len(b) {
			return true
		}
		// '*' matching the empty run.
		if i < len(a) && a[i].kind == '*' {
			push(i+1, j)
		}
		if j < len(b) && b[j].kind == '*' {
			push(i, j+1)
		}
		// One character consumed by both.
		if i < len(a) && j < len(b) && compatible(a[i], b[j]) {
			ni, nj := i+1, j+1
			if a[i].kind == '*' {
				ni = i
			}
			if b[j].kind == '*' {
				nj = j
			}
			push(ni, nj)
		}
	}
	return false
}

// compatible reports whether one character can satisfy both elements.
func compatible(x, y tok) bool {
	return x.kind != 'l' || y.kind != 'l' || x.r == y.r
}
