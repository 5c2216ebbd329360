package kafka_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/eventpub/eventpub/kafka"
	"github.com/eventpub/eventpub/transport"
	"github.com/twmb/franz-go/pkg/kfake"
)

// Channel names map to Kafka topics by a rule that can be undone.
func ExampleTopicFor() {
	for _, ch := range []string{"codeworm:events", "job_done", "a.b"} {
		topic, _ := kafka.TopicFor(kafka.Escape, ch)
		back, _ := kafka.ChannelFor(kafka.Escape, topic)
		fmt.Println(ch, "→", topic, "→", back)
	}
	_, err := kafka.TopicFor(kafka.ColonToDot, "a.b")
	fmt.Println(err)
	// Output:
	// codeworm:events → codeworm.events → codeworm:events
	// job_done → job__done → job_done
	// a.b → a_2eb → a.b
	// eventpub: invalid channel: channel "a.b" has '.', which the ColonToDot mapping would give back to subscribers as ':'
}

// Open a transport on a Kafka cluster (here franz-go's in-process kfake),
// subscribe from the start of the topic and publish.
func ExampleOpen() {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()
	ctx := context.Background()
	url := "kafka://" + strings.Join(cluster.ListenAddrs(), ",") + "/?from=start"

	t, err := kafka.Open(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer t.Close()
	msg := transport.Message{Channel: "codeworm:events", Payload: []byte(`{"type":"deploy"}`), Header: map[string]string{"Source": "ci"}}
	if err := t.Publish(ctx, msg); err != nil {
		log.Fatal(err)
	}
	sub, err := t.Subscribe(ctx, "codeworm:events")
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	m, err := sub.Next(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Channel, string(m.Payload), m.Header["Source"], t.Capabilities().Persistent)
	// Output: codeworm:events {"type":"deploy"} ci true
}
