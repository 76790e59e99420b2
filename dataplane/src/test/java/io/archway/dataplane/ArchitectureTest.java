package io.archway.dataplane;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dataplane's package graph only points down (DESIGN.md, "Dataplane layers"):
 *
 * <pre>
 * cli → server (wiring) → protocol adapters (http, http2, stream, stream.redis, pubsub)
 *   → pipeline → config → flow → plugins → plugin SPI · exchange
 *   → route · upstream · tls · discovery → support
 * </pre>
 *
 * Plugins are found by {@link java.util.ServiceLoader} only: no other package names one. The last
 * two tests break the rules on purpose (classes under {@code archfixture}, test code only) and show
 * that the rules notice.
 */
class ArchitectureTest {

  private static final String DP = "io.archway.dataplane";

  // Imported once for this class and let go after it: what ArchUnit imports (with what it reaches)
  // is hundreds of megabytes, which every forced GC of the leak checks in the test classes that
  // run after this one would otherwise walk again.
  private static JavaClasses main;
  private static JavaClasses mainAndTests;

  @BeforeAll
  static void importClasses() {
    main =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages(DP);
    mainAndTests = new ClassFileImporter().importPackages(DP);
  }

  @AfterAll
  static void release() {
    main = null;
    mainAndTests = null;
  }

  private static final DescribedPredicate<JavaClass> MAIN_CODE =
      DescribedPredicate.describe(
          "main code",
          c ->
              c.getSource()
                  .map(s -> !s.getUri().toString().contains("test-classes"))
                  .orElse(false));

  private static final String[] ABOVE_CORE = {
    "cli", "server", "adapters", "pipeline", "config", "flow", "plugins", "spi"
  };

  static final ArchRule LAYERS =
      layeredArchitecture()
          .consideringOnlyDependenciesInLayers()
          .layer("cli")
          .definedBy(DP + ".cli..")
          .layer("server")
          .definedBy(DP + ".server..")
          .layer("adapters")
          .definedBy(
              DP + ".http..", DP + ".http2..", DP + ".stream..", DP + ".pubsub..", DP + ".admin..")
          .layer("pipeline")
          .definedBy(DP + ".pipeline..")
          .layer("config")
          .definedBy(DP + ".config..")
          .layer("flow")
          .definedBy(DP + ".flow..")
          .layer("plugins")
          .definedBy(DP + ".plugins..")
          .layer("spi")
          .definedBy(DP + ".plugin..", DP + ".exchange..")
          .layer("core")
          .definedBy(DP + ".route..", DP + ".upstream..", DP + ".tls..", DP + ".discovery..")
          .layer("support")
          .definedBy(DP + ".support..")
          .whereLayer("cli")
          .mayNotBeAccessedByAnyLayer()
          .whereLayer("server")
          .mayOnlyBeAccessedByLayers("cli")
          .whereLayer("adapters")
          .mayOnlyBeAccessedByLayers("cli", "server")
          .whereLayer("pipeline")
          .mayOnlyBeAccessedByLayers("cli", "server", "adapters")
          .whereLayer("config")
          .mayOnlyBeAccessedByLayers("cli", "server", "adapters", "pipeline")
          .whereLayer("flow")
          .mayOnlyBeAccessedByLayers("cli", "server", "adapters", "pipeline", "config")
          .whereLayer("plugins")
          .mayNotBeAccessedByAnyLayer()
          .whereLayer("spi")
          .mayOnlyBeAccessedByLayers(
              "cli", "server", "adapters", "pipeline", "config", "flow", "plugins")
          .whereLayer("core")
          .mayOnlyBeAccessedByLayers(ABOVE_CORE)
          .whereLayer("support")
          .mayOnlyBeAccessedByLayers(
              "cli", "server", "adapters", "pipeline", "config", "flow", "plugins", "spi", "core")
          .because("arrows between the dataplane's packages only point down (DESIGN.md)");

  static final ArchRule NO_CYCLES =
      slices()
          .matching(DP + ".(**)")
          .should()
          .beFreeOfCycles()
          .because("a package cycle makes the layers meaningless");

  @Test
  void layersOnlyPointDown() {
    LAYERS.check(main);
  }

  @Test
  void packagesFormNoCycle() {
    NO_CYCLES.check(main);
  }

  @Test
  void protocolHandlersKnowNoSpecificPlugin() {
    noClasses()
        .that()
        .resideInAnyPackage(
            DP + ".http..",
            DP + ".http2..",
            DP + ".stream..",
            DP + ".pubsub..",
            DP + ".pipeline..",
            DP + ".server..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage(DP + ".plugins..")
        .because("a route's plugins are found by name when the config is compiled")
        .check(main);
  }

  @Test
  void protocolAdaptersDoNotKnowEachOther() {
    var adapters =
        new String[] {DP + ".http..", DP + ".http2..", DP + ".stream..", DP + ".pubsub.."};
    for (var adapter : adapters) {
      var others =
          java.util.Arrays.stream(adapters).filter(a -> !a.equals(adapter)).toArray(String[]::new);
      noClasses()
          .that()
          .resideInAPackage(adapter)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(others)
          .because(
              "a route's handler (HTTP proxy, WebSocket, pub-sub) is reached through the"
                  + " pipeline, chosen when the config is compiled")
          .check(main);
    }
  }

  @Test
  void pluginsDoNotKnowTheCompiler() {
    noClasses()
        .that()
        .resideInAnyPackage(DP + ".plugins..", DP + ".plugin..", DP + ".flow..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            DP + ".config..", DP + ".pipeline..", DP + ".http..", DP + ".http2..", DP + ".server..")
        .check(main);
  }

  @Test
  void dataplaneDependsOnNeitherCrdsNorOperator() {
    noClasses()
        .that()
        .resideInAPackage(DP + "..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("io.archway.crds..", "io.archway.operator..")
        .because("the etcd object model is the only contract between the two sides")
        .check(main);
  }

  /**
   * Package-private by default (CONVENTIONS.md): a public type must be used from another package
   * (tests count: a test helper in {@code testing} may need a type). Plugins are public because
   * {@link java.util.ServiceLoader} makes them, and so is a class another library instantiates by
   * name (Kafka's SSL engine factory); nothing else is exempt.
   */
  @Test
  void publicTypesAreUsedFromAnotherPackage() {
    classes()
        .that()
        .arePublic()
        .and()
        .areTopLevelClasses()
        .and()
        .resideOutsideOfPackage(DP + ".plugins..")
        .and()
        .resideOutsideOfPackage(DP + ".pubsub.proto..")
        .and()
        .doNotHaveFullyQualifiedName(DP + ".pubsub.TrustingSslEngineFactory")
        .and(MAIN_CODE)
        .should(beUsedFromAnotherPackage())
        .check(mainAndTests);
  }

  private static ArchCondition<JavaClass> beUsedFromAnotherPackage() {
    return new ArchCondition<>("be used from another package") {
      @Override
      public void check(JavaClass type, ConditionEvents events) {
        boolean used =
            type.getDirectDependenciesToSelf().stream()
                .anyMatch(d -> !d.getOriginClass().getPackageName().equals(type.getPackageName()));
        if (!used && !type.getName().equals(DP + ".cli.Main")) {
          events.add(
              SimpleConditionEvent.violated(
                  type, type.getName() + " is public but only its own package uses it"));
        }
      }
    };
  }

  @Test
  void aCycleMadeOnPurposeFails() {
    var fixture = new ClassFileImporter().importPackages(DP + ".archfixture");
    assertThatThrownBy(() -> NO_CYCLES.check(fixture))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("archfixture.ping")
        .hasMessageContaining("archfixture.pong");
  }

  @Test
  void anUpwardArrowMadeOnPurposeFails() {
    var fixture =
        new ClassFileImporter().importPackages(DP + ".support.archfixture", DP + ".config");
    assertThatThrownBy(() -> LAYERS.check(fixture))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("UpwardReference");
  }

  /**
   * A plugin a dry-run runs as it is ({@code @PluginTraits(dryRun = RUNS)}) reaches nothing real:
   * not the gateway itself (its batch requests, metrics), not an HTTP client, not a proxy cache's
   * store. Followed through the calls it makes to code of the plugins package: a method called, or
   * all of a class it makes an instance of (its {@code PluginInstance}).
   */
  static final ArchCondition<JavaClass> REACH_NOTHING_REAL =
      new ArchCondition<>("reach neither the gateway, an HTTP client nor a cache store") {
        @Override
        public void check(JavaClass plugin, ConditionEvents events) {
          var seen = new java.util.HashSet<com.tngtech.archunit.core.domain.JavaCodeUnit>();
          var todo = new java.util.ArrayDeque<com.tngtech.archunit.core.domain.JavaCodeUnit>();
          todo.addAll(plugin.getCodeUnits());
          while (!todo.isEmpty()) {
            var unit = todo.poll();
            if (!seen.add(unit)) {
              continue;
            }
            for (var call : unit.getCallsFromSelf()) {
              var owner = call.getTargetOwner().getName();
              var name = call.getTarget().getName();
              boolean real =
                  owner.equals(DP + ".plugin.PluginServices")
                          && (name.equals("gateway") || name.equals("http"))
                      || owner.equals(DP + ".plugins.CacheZone")
                      || owner.equals(DP + ".plugins.ProxyCachePlugin") && name.equals("store");
              if (real) {
                events.add(
                    SimpleConditionEvent.violated(
                        plugin,
                        plugin.getSimpleName()
                            + " runs in a dry-run but reaches "
                            + call.getDescription()));
              }
              if (owner.startsWith(DP + ".plugins.")) {
                if (name.equals("<init>")) {
                  todo.addAll(call.getTargetOwner().getCodeUnits()); // an instance made: all of it
                } else {
                  call.getTarget().resolveMember().ifPresent(todo::add);
                }
              }
            }
          }
        }
      };

  static final ArchRule RUNS_REACH_NOTHING_REAL =
      classes()
          .that(
              DescribedPredicate.describe(
                  "a plugin a dry-run runs",
                  c ->
                      c.tryGetAnnotationOfType(io.archway.dataplane.plugin.PluginTraits.class)
                          .map(t -> t.dryRun() == io.archway.dataplane.plugin.Plugin.DryRun.RUNS)
                          .orElse(false)))
          .should(REACH_NOTHING_REAL);

  @Test
  void pluginsADryRunRunsReachNothingReal() {
    RUNS_REACH_NOTHING_REAL.check(main);
  }

  @Test
  void aPluginThatRunsAndServesTheGatewayFails() {
    var fixture = new ClassFileImporter().importPackages(DP + ".plugins.archfixture");
    assertThatThrownBy(() -> RUNS_REACH_NOTHING_REAL.check(fixture))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("RunsButServes");
  }
}
