// A storefront's Earmark client in Java. Generate the code first, from the repository:
//
//   protoc -Iproto --java_out=gen/java --grpc-java_out=gen/java \
//     --plugin=protoc-gen-grpc-java=/usr/bin/grpc_java_plugin proto/earmark/v1/earmark.proto
//
// then compile it with the generated sources and grpc-java on the class path, and run
// `java Storefront 127.0.0.1:50051`.
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.earmark.v1.EarmarkGrpc;
import dev.earmark.v1.EvaluateRequest;
import dev.earmark.v1.Product;
import dev.earmark.v1.UseCaseScore;
import dev.earmark.v1.Verdict;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;

public final class Storefront {
  private static Value text(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  public static void main(String[] args) throws InterruptedException {
    ManagedChannel channel = ManagedChannelBuilder.forTarget(args[0]).usePlaintext().build();
    try {
      EarmarkGrpc.EarmarkBlockingStub earmark =
          EarmarkGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS);
      // Every value is a google.protobuf.Value with its kind set: text, number, bool or list.
      Struct specs = Struct.newBuilder()
          .putFields("mic", text("boom"))
          .putFields("connectivity", Value.newBuilder()
              .setListValue(ListValue.newBuilder().addValues(text("wireless_dongle")))
              .build())
          .build();
      Verdict verdict = earmark.evaluate(EvaluateRequest.newBuilder()
          .setProduct(Product.newBuilder().setId("arctis-nova-7").setSpecs(specs))
          .setLocale("en")
          .build()).getVerdict();
      StringBuilder line = new StringBuilder(verdict.getCategory());
      for (UseCaseScore score : verdict.getScoresList()) {
        line.append(' ').append(score.getUseCase()).append('=').append(score.getScore());
      }
      System.out.println(line);

      // Strict mode: an attribute the pack doesn't declare is an error, not a warning.
      Struct typo = Struct.newBuilder().putFields("micc", text("boom")).build();
      try {
        earmark.evaluate(EvaluateRequest.newBuilder()
            .setProduct(Product.newBuilder().setId("typo").setSpecs(typo))
            .setStrict(true)
            .build());
      } catch (StatusRuntimeException error) {
        Status status = error.getStatus();
        System.out.println(status.getCode() + " " + status.getDescription());
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
