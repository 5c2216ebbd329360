package cfgfill

import (
	"reflect"
	"testing"
	"time"
)

type inner struct{ A, B int }

type config struct {
	Name    string
	Timeout time.Duration
	On      bool
	List    []string
	Inner   inner
	Ptr     *inner
}

func TestSetCopiesOnlyNonZeroFields(t *testing.T) {
	dst := config{Name: "url", Timeout: time.Second, On: true, List: []string{"a"}, Inner: inner{A: 1, B: 2}}
	Set(&dst, config{Timeout: 3 * time.Second, Inner: inner{B: 5}, Ptr: &inner{A: 7}})
	want := config{Name: "url", Timeout: 3 * time.Second, On: true, List: []string{"a"}, Inner: inner{B: 5}, Ptr: &inner{A: 7}}
	if !reflect.DeepEqual(dst, want) {
		t.Errorf("got %+v, want %+v", dst, want)
	}
	Set(&dst, config{})
	if !reflect.DeepEqual(dst, want) {
		t.Errorf("a zero Config changed %+v", dst)
	}
}
