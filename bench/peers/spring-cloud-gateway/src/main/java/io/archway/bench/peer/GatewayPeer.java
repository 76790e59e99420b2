package io.archway.bench.peer;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cloud.gateway.route.RouteLocator;
import org.springframework.cloud.gateway.route.builder.RouteLocatorBuilder;
import org.springframework.context.annotation.Bean;

/**
 * One route, {@code /**}, to the upstream named by {@code --upstream=host:port}, with no filters:
 * the same work the other bench peers do (nginx's {@code proxy_pass}, haproxy's one backend).
 */
@SpringBootApplication
public class GatewayPeer {

  public static void main(String[] args) {
    SpringApplication.run(GatewayPeer.class, args);
  }

  @Bean
  RouteLocator routes(RouteLocatorBuilder builder, @Value("${upstream}") String upstream) {
    return builder
        .routes()
        .route("upstream", r -> r.path("/**").uri("http://" + upstream))
        .build();
  }
}
