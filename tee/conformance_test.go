package tee_test

import (
	"testing"

	"github.com/eventpub/eventpub/conformance"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/tee"
	"github.com/eventpub/eventpub/transport"
)

// teeHarness runs the driver suite on tees of two memory brokers, under
// each secondary failure policy.
func teeHarness(policy tee.SecondaryFailure) conformance.Harness {
	a, b := memory.NewBroker(), memory.NewBroker()
	return conformance.Harness{
		Name: "tee-" + policy.String(),
		New: func(t testing.TB) transport.Transport {
			tt, err := tee.New(a.Connect(), []transport.Transport{b.Connect()}, tee.WithSecondaryFailure(policy))
			if err != nil {
				t.Fatal(err)
			}
			return tt
		},
		Stop:  func(testing.TB) { a.SetDown(true); b.SetDown(true) },
		Start: func(testing.TB) { a.SetDown(false); b.SetDown(false) },
	}
}

func TestConformance(t *testing.T) {
	conformance.Run(t, teeHarness(tee.CountAndContinue))
	conformance.Run(t, teeHarness(tee.FailCall))
}
