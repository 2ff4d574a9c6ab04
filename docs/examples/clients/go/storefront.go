// A storefront's Earmark client in Go. Generate the code first, from the repository:
//
//	protoc -Iproto --go_out=gen/go --go_opt=paths=source_relative \
//	  --go-grpc_out=gen/go --go-grpc_opt=paths=source_relative proto/earmark/v1/earmark.proto
//
// then build it against the generated package and run `storefront 127.0.0.1:50051`.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	earmarkv1 "github.com/earmark/earmark/gen/go/earmark/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

func main() {
	conn, err := grpc.Dial(os.Args[1], grpc.WithInsecure())
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	earmark := earmarkv1.NewEarmarkClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	// structpb.NewStruct takes the values as the catalog has them; a list must be []interface{}.
	specs, err := structpb.NewStruct(map[string]interface{}{
		"mic":          "boom",
		"connectivity": []interface{}{"wireless_dongle"},
	})
	if err != nil {
		panic(err)
	}
	reply, err := earmark.Evaluate(ctx, &earmarkv1.EvaluateRequest{
		Product: &earmarkv1.Product{Id: "arctis-nova-7", Specs: specs},
		Locale:  "en",
	})
	if err != nil {
		panic(err)
	}
	fmt.Print(reply.Verdict.Category)
	for _, score := range reply.Verdict.Scores {
		fmt.Printf(" %s=%d", score.UseCase, score.Score)
	}
	fmt.Println()

	// Strict mode: an attribute the pack doesn't declare is an error, not a warning.
	typo, _ := structpb.NewStruct(map[string]interface{}{"micc": "boom"})
	_, err = earmark.Evaluate(ctx, &earmarkv1.EvaluateRequest{
		Product: &earmarkv1.Product{Id: "typo", Specs: typo},
		Strict:  true,
	})
	refused := status.Convert(err)
	fmt.Println(refused.Code(), refused.Message())
}
