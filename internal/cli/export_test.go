package cli

import (
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/auth/basicauth"
)

// StubHashBcrypt makes passwd hash at bcrypt's lowest cost, 4, for the rest of the test,
// and returns where the cost passwd asked for is recorded. The test must not be parallel.
func StubHashBcrypt(t *testing.T) *int {
	asked := new(int)
	old := hashBcrypt
	hashBcrypt = func(password []byte, cost int) (string, error) {
		*asked = cost
		return basicauth.HashBcrypt(password, 4)
	}
	t.Cleanup(func() { hashBcrypt = old })
	return asked
}
