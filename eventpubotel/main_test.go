package eventpubotel_test

import (
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, brokertest.LeakOptions()...) }
