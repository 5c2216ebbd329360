package jsonenc

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

type stringerT struct{ n int }

func (s stringerT) String() string { return fmt.Sprintf("S<%d>", s.n) }

type ptrErr struct{ msg string }

func (e *ptrErr) Error() string { return "err: " + e.msg }

type bothT struct{}

func (bothT) Error() string  { return "as error" }
func (bothT) String() string { return "as stringer" }

type panicky struct{}

func (panicky) String() string { panic("boom") }

func TestValuesThatBecomeStrings(t *testing.T) {
	utc := time.Date(2026, 2, 19, 13, 29, 0, 123456789, time.UTC)
	runCases(t, []encCase{
		{"error", errors.New(`bad "thing"`), `"bad \"thing\""`},
		{"pointer error", &ptrErr{"x"}, `"err: x"`},
		{"nil pointer error", (*ptrErr)(nil), "null"},
		{"error wins over String", bothT{}, `"as error"`},
		{"stringer", stringerT{7}, `"S<7>"`},
		{"pointer to stringer", &stringerT{8}, `"S<8>"`},
		{"duration", 1500 * time.Millisecond, `"1.5s"`},
		{"net.IP", net.IPv4(127, 0, 0, 1), `"127.0.0.1"`},
		{"time UTC micro", utc, `"2026-02-19T13:29:00.123456+00:00"`},
		{"time whole second", time.Date(2026, 2, 19, 13, 29, 0, 0, time.UTC), `"2026-02-19T13:29:00+00:00"`},
		{"time sub-micro dropped", time.Date(2026, 1, 1, 0, 0, 0, 999, time.UTC), `"2026-01-01T00:00:00+00:00"`},
		{"time one micro", time.Date(2026, 1, 1, 0, 0, 0, 1000, time.UTC), `"2026-01-01T00:00:00.000001+00:00"`},
		{"time negative offset", time.Date(2026, 12, 31, 23, 59, 59, 500000000, time.FixedZone("", -5*3600)), `"2026-12-31T23:59:59.500000-05:00"`},
		{"time half-hour offset", time.Date(2026, 6, 1, 8, 0, 0, 0, time.FixedZone("", 5*3600+1800)), `"2026-06-01T08:00:00+05:30"`},
		{"time offset seconds", time.Date(1900, 1, 1, 0, 0, 0, 0, time.FixedZone("", 1172)), `"1900-01-01T00:00:00+00:19:32"`},
		{"time year padded", time.Date(33, 1, 2, 3, 4, 5, 0, time.UTC), `"0033-01-02T03:04:05+00:00"`},
		{"time pointer", &utc, `"2026-02-19T13:29:00.123456+00:00"`},
		{"time nil pointer", (*time.Time)(nil), "null"},
		{"complex", complex(1, -2), `"(1-2i)"`},
		{"complex64", complex64(complex(0.5, 1)), `"(0.5+1i)"`},
		{"panicking String", panicky{}, `"%!v(PANIC=String method: boom)"`},
		{"stringer in map", map[string]any{"d": time.Second}, `{"d":"1s"}`},
	})
	for _, v := range []any{make(chan int), func() {}} {
		got := string(Append(nil, v))
		if want := `"` + fmt.Sprint(v) + `"`; got != want {
			t.Errorf("%T: got %s, want %s", v, got, want)
		}
	}
}

type Inner struct {
	X int
	Y string `json:"y"`
}

type Tagged struct {
	Name      string            `json:"name"`
	Skipped   string            `json:"-"`
	Dash      string            `json:"-,"`
	Empty     string            `json:"empty,omitempty"`
	ZeroInt   int               `json:",omitempty"`
	NilPtr    *int              `json:"nil_ptr,omitempty"`
	EmptyMap  map[string]string `json:"m,omitempty"`
	ZeroTime  time.Time         `json:"zt,omitzero"`
	ZeroInner Inner             `json:"zi,omitzero"`
	Kept      []int             `json:"kept"`
	unexp     int
	Any       any     `json:"any"`
	Float     float32 `json:"f"`
	Ptr       *Inner  `json:"ptr"`
	Arr       [2]byte `json:"arr"`
	Bad       int     `json:"a\"b"`
}

type Base struct {
	ID   int `json:"id"`
	Name string
}

type inner2 struct{ Hidden, Shown int }

type Outer struct {
	Base
	*Inner
	inner2
	Name  string // shallower: wins over Base.Name
	Extra int    `json:"extra"`
}

type hiddenPtr struct{ P, Q int }

type WithHidden struct {
	*hiddenPtr
	inner2 `json:"named"`
	Self   *WithHidden `json:",omitempty"`
}

type Conflict struct {
	A
	B
}
type A struct{ Dup, OnlyA int }
type B struct{ Dup, OnlyB int }

type TagBreaksTie struct {
	A
	C
}
type C struct {
	Dup int `json:"Dup"`
}

func TestStructs(t *testing.T) {
	n := 3
	_ = Tagged{}.unexp
	runCases(t, []encCase{
		{"tags, omitempty, omitzero", Tagged{Name: "n", Skipped: "s", Dash: "d", Kept: nil, Float: 0.1, Ptr: &Inner{1, "y"}, Arr: [2]byte{1, 2}},
			`{"name":"n","-":"d","kept":null,"any":null,"f":0.1,"ptr":{"X":1,"y":"y"},"arr":[1,2],"Bad":0}`},
		{"omitted fields present when set", Tagged{Empty: "e", ZeroInt: 1, NilPtr: &n, EmptyMap: map[string]string{"k": "v"}, ZeroTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ZeroInner: Inner{X: 1}, Any: map[string]any{"b": 1, "a": 2}},
			`{"name":"","-":"","empty":"e","ZeroInt":1,"nil_ptr":3,"m":{"k":"v"},"zt":"2026-01-01T00:00:00+00:00","zi":{"X":1,"y":""},"kept":null,"any":{"a":2,"b":1},"f":0.0,"ptr":null,"arr":[0,0],"Bad":0}`},
		{"embedding promotes fields", Outer{Base: Base{ID: 1, Name: "base"}, Inner: &Inner{X: 2, Y: "y"}, inner2: inner2{3, 4}, Name: "outer", Extra: 5},
			`{"id":1,"X":2,"y":"y","Hidden":3,"Shown":4,"Name":"outer","extra":5}`},
		{"nil embedded pointer skipped", Outer{Name: "o"}, `{"id":0,"Hidden":0,"Shown":0,"Name":"o","extra":0}`},
		{"ambiguous names dropped", Conflict{A{1, 2}, B{3, 4}}, `{"OnlyA":2,"OnlyB":4}`},
		{"tag breaks a tie", TagBreaksTie{A{1, 2}, C{9}}, `{"OnlyA":2,"Dup":9}`},
		{"pointer to struct", &Base{ID: 7}, `{"id":7,"Name":""}`},
		{"unexported embedded pointer promotes", WithHidden{hiddenPtr: &hiddenPtr{1, 2}, inner2: inner2{3, 4}}, `{"P":1,"Q":2,"named":{"Hidden":3,"Shown":4}}`},
		{"unexported embedded nil pointer", WithHidden{}, `{"named":{"Hidden":0,"Shown":0}}`},
		{"empty struct", struct{}{}, `{}`},
		{"slice of structs", []Base{{ID: 1}}, `[{"id":1,"Name":""}]`},
	})
}

func TestReflectContainers(t *testing.T) {
	x := 5
	px := &x
	runCases(t, []encCase{
		{"int keys sorted as text", map[int]string{2: "b", 10: "a", 1: "c"}, `{"1":"c","10":"a","2":"b"}`},
		{"stringer keys", map[stringerT]int{{2}: 2, {1}: 1}, `{"S<1>":1,"S<2>":2}`},
		{"named string keys", map[label]int{"b": 1, "a": 2}, `{"a":2,"b":1}`},
		{"colliding keys ordered by value", map[any]any{1: "y", "1": "x"}, `{"1":"x","1":"y"}`},
		{"map of slices", map[string][]string{"k": {"a"}}, `{"k":["a"]}`},
		{"nested typed", map[string]map[string]int{"o": {"b": 2, "a": 1}}, `{"o":{"a":1,"b":2}}`},
		{"nil typed map", map[string][]int(nil), "null"},
		{"array", [3]int{1, 2, 3}, `[1,2,3]`},
		{"slice of pointers", []*int{px, nil}, `[5,null]`},
		{"pointer", px, `5`},
		{"pointer to pointer", &px, `5`},
		{"nil pointer", (*int)(nil), "null"},
		{"named byte slice", net.HardwareAddr("ab"), `"61:62"`},
		{"byte slice type", []uint8{'o', 'k'}, `"ok"`},
		{"slice of any in map", map[string][]any{"k": {1, "x"}}, `{"k":[1,"x"]}`},
		{"interface slice", []fmt.Stringer{stringerT{1}, nil}, `["S<1>",null]`},
	})
}

type node struct {
	Name string `json:"name"`
	Next *node  `json:"next"`
}

func TestCycles(t *testing.T) {
	m := map[string]any{"a": 1}
	m["self"] = m
	m["twice"] = m // two self references must not blow up exponentially
	runCases(t, []encCase{{"map cycle", m, `{"a":1,"self":"<cycle>","twice":"<cycle>"}`}})

	s := make([]any, 2)
	s[0] = "x"
	s[1] = s
	runCases(t, []encCase{{"slice cycle", s, `["x","<cycle>"]`}})

	// A sub-slice sharing the backing array is not a cycle.
	y := make([]any, 2)
	y[1] = y[:1]
	runCases(t, []encCase{{"shared backing array", y, `[null,[null]]`}})

	a := &node{Name: "a"}
	b := &node{Name: "b", Next: a}
	a.Next = b
	runCases(t, []encCase{{"pointer cycle", a, `{"name":"a","next":{"name":"b","next":"<cycle>"}}`}})

	type loop map[string]loop
	l := loop{}
	l["l"] = l
	runCases(t, []encCase{{"typed map cycle", l, `{"l":"<cycle>"}`}})

	// The same value twice side by side is not a cycle.
	shared := map[string]any{"k": 1}
	runCases(t, []encCase{{"shared", []any{shared, shared}, `[{"k":1},{"k":1}]`}})
}

func TestMaxDepth(t *testing.T) {
	var v any = "leaf"
	for range 1500 {
		v = []any{v}
	}
	out := string(Append(nil, v))
	if want := strings.Repeat("[", maxDepth) + `"<max depth>"` + strings.Repeat("]", maxDepth); out != want {
		t.Errorf("deep nesting: got %d bytes, want %d bytes ending at %q", len(out), len(want), depthMarker)
	}

	var list *node
	for i := range 1200 {
		list = &node{Name: itoa(i), Next: list}
	}
	out = string(Append(nil, list))
	if !strings.Contains(out, `"next":"<max depth>"`) || !strings.Contains(out, `"name":"1199"`) {
		t.Errorf("long list: marker or head missing in %.100s…", out)
	}
}

func TestConcurrentUse(t *testing.T) {
	type rec struct {
		A int               `json:"a"`
		M map[string]any    `json:"m"`
		L []time.Duration   `json:"l"`
		S map[string]string `json:"s,omitempty"`
	}
	big := map[string]any{}
	for i := range 50 {
		big[itoa(i)] = i
	}
	v := rec{A: 1, M: map[string]any{"big": big, "x": 1.5}, L: []time.Duration{time.Second}}
	want := string(Append(nil, v))
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if got := string(Append(nil, v)); got != want {
					errs <- got
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("concurrent encoding differs:\n got %s\nwant %s", got, want)
	}
}
