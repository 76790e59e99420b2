package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.server.DataplaneOptions;
import io.archway.dataplane.testing.TestUpstream;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.logging.Level;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.Select;

/**
 * The Studio's files on the admin port (no key; the Admin API still wants one), then the Studio in
 * a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}; Selenium is
 * given both paths, so Selenium Manager never looks for or downloads a browser): log in, build the
 * seed document's flow (key-auth; on {@code code == 401} limit-req, else kafka-logger) with the
 * palette and the connect form, see a wrong value refused at its field, fix it, save, attach it to
 * a route that then answers as the flow says, dry-run both branches (the path drawn on the canvas),
 * see the route's real traffic counted on the edges in the live view, export the PluginFlow YAML
 * and import it again. Screenshots go to {@code target/studio-screenshots/}.
 */
class StudioBrowserIT {

  private static final String KEY = "edd1c9f034335f136f87ad84b625c8f1";
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Path SHOTS = Path.of("target", "studio-screenshots");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private TestUpstream upstream;
  private Dataplane dataplane;
  private ChromeDriver browser;
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void start() throws Exception {
    // The page answers in milliseconds: poll it often (reset after the test).
    Awaitility.setDefaultPollDelay(Duration.ZERO);
    Awaitility.setDefaultPollInterval(Duration.ofMillis(25));
    assertThat(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER))
        .as(
            "StudioBrowserIT needs Debian's chromium and chromium-driver (%s, %s):"
                + " apt-get install chromium chromium-driver (.ci/run installs them)",
            CHROMIUM, CHROMEDRIVER)
        .isTrue();
    upstream = new TestUpstream("up1");
    var file = dir.resolve("apisix.yaml");
    Files.writeString(
        file,
        """
        consumers:
          - username: jack
            plugins:
              key-auth: {key: jack-key}
        routes:
          - id: api
            uri: /api
            upstream:
              nodes:
                "%s": 1
        #END
        """
            .formatted(upstream.node()));
    dataplane =
        new Dataplane(
                DataplaneOptions.standaloneOnLoopback(file)
                    .withAdmin(AdminSettings.onLoopback(KEY, null, false)))
            .start();
    await().atMost(Duration.ofSeconds(10)).until(() -> dataplane.config().loaded());
    // Selenium Manager runs only when a driver or browser path is missing: both are given.
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
    var options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1000");
    var logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    var service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(CHROMEDRIVER.toString()))
            .usingAnyFreePort()
            .build();
    browser = new ChromeDriver(service, options);
    Files.createDirectories(SHOTS);
  }

  @AfterEach
  void stop() throws Exception {
    Awaitility.reset();
    if (browser != null) {
      // What the page looked like at the end, passed or failed.
      shot("9-last");
      Files.writeString(SHOTS.resolve("9-last.html"), browser.getPageSource());
      browser.quit();
    }
    if (dataplane != null) {
      dataplane.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void buildSaveRunExportAndImportTheSeedFlow() throws Exception {
    theFilesNeedNoKeyButTheApiDoes();
    var base = "http://127.0.0.1:" + dataplane.servers().adminPort();
    browser.get(base + "/ui");
    assertThat(browser.getCurrentUrl()).isEqualTo(base + "/ui/");

    // Log in: a wrong key is refused, the right one opens the editor.
    find("#api-key").sendKeys("wrong");
    find("form[aria-label='Log in'] button[type=submit]").click();
    await().atMost(Duration.ofSeconds(10)).until(() -> text("[role=alert]").contains("401"));
    find("#api-key").sendKeys(Keys.chord(Keys.CONTROL, "a"), KEY, Keys.ENTER);
    find("#palette-search");
    assertNothingRefusedByThePolicy();
    shot("1-logged-in");

    // key-auth and limit-req from the palette with the keyboard (search, focus, Enter) ...
    addWithKeyboard("key-auth");
    addWithKeyboard("limit-req");
    // ... kafka-logger dragged onto the canvas: HTML5 drag events (chromedriver's synthetic
    // mouse does not start a native drag), through the app's own dragstart and drop handlers.
    find("#palette-search").sendKeys(Keys.chord(Keys.CONTROL, "a"), "kafka-logger");
    dragToCanvas(find("[data-plugin='kafka-logger']"));
    untilNodes(3);

    // Edges from the connect form: on 401 limit-req, else kafka-logger.
    connect("key-auth", "limit-req", "code == 401");
    connect("key-auth", "kafka-logger", "");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> browser.findElements(By.cssSelector(".react-flow__edge")).size() == 2);
    clickButton("Auto-layout");

    // limit-req with a wrong rate; kafka-logger's required topic.
    selectNode("kafka-logger");
    type("[data-field='kafka_topic'] input", "access-log");
    type("[data-field='brokers'] textarea", "[{\"host\": \"127.0.0.1\", \"port\": 9}]");
    type("[data-field='batch_max_size'] input", "1");
    selectNode("limit-req");
    type("[data-field='rate'] input", "-1");
    type("[data-field='burst'] input", "0");
    type("[data-field='key'] input", "remote_addr");
    type("[data-field='rejected_code'] input", "429");
    type("#flow-id", "seed");
    shot("2-built");

    clickButton("Save");
    untilMessage("not saved");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> text("[data-field='rate'] .field-error").contains("rate: -1"));
    shot("3-refused");

    type("[data-field='rate'] input", "0.01");
    clickButton("Save");
    untilMessage("saved plugin flow seed");
    assertThat(browser.findElements(By.cssSelector(".plugin-node.node-error"))).isEmpty();

    var stored = JSON.readTree(admin("GET", "/apisix/admin/plugin_flows/seed").body()).get("value");
    assertThat(stored.get("rule").toString())
        .isEqualTo(
            "{\"root\":\"key-auth\",\"key-auth\":[[\"code == 401\",\"limit-req\"],[\"\",\"kafka-logger\"]]}");
    assertThat(stored.at("/conf/limit-req/conf/rate").asDouble()).isEqualTo(0.01);

    // Attach it to the route from the Studio; the route then answers as the flow says: a key
    // passes (kafka-logger), without one the 401 goes to limit-req, which lets one request a
    // hundred seconds through and answers the next 429.
    new Select(find("#attach-route")).selectByValue("api");
    clickButton("Attach");
    untilMessage("route api runs plugin flow seed");
    await().atMost(Duration.ofSeconds(10)).until(() -> data("/api", "jack-key") == 200);
    assertThat(data("/api", "jack-key")).isEqualTo(200);
    assertThat(data("/api", null)).isEqualTo(200);
    assertThat(data("/api", null)).isEqualTo(429);
    assertThat(data("/api", "jack-key")).isEqualTo(200);
    assertThat(text("section[aria-label='Routes using this flow'] ul")).contains("api");
    shot("4-saved-attached");

    // Dry-run both branches: without a key the 401 edge is taken (limit-req), with one the
    // default edge (kafka-logger, whose entry is listed instead of sent).
    type("#dry-uri", "/api");
    clickButton("Send sample request");
    untilOnPath(UNAUTHORIZED);
    assertThat(onPath(DEFAULT)).isFalse();
    assertThat(text("[data-step='key-auth']")).contains("respond 401");
    setValue("#dry-headers", "{\"apikey\": \"jack-key\"}");
    clickButton("Send sample request");
    untilOnPath(DEFAULT);
    assertThat(onPath(UNAUTHORIZED)).isFalse();
    assertThat(text("[data-log='kafka-logger']")).contains("kafka-logger");
    shot("5-dry-run");
    clickButton("Clear path");

    // The live view: the traffic sent above, counted on the edges and nodes.
    find("#live").click();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                edgeLabel(UNAUTHORIZED).matches("code == 401 · [1-9]\\d*")
                    && edgeLabel(DEFAULT).matches("else · [1-9]\\d*")
                    && text("[data-node='key-auth'] .runs").matches("[1-9]\\d* runs.*"));
    assertThat(browser.findElements(By.cssSelector(".react-flow__edge.busiest"))).hasSize(1);
    liveShot();
    find("#live").click();

    // The server refuses to delete a flow a route runs: its message is shown.
    clickButton("Delete");
    untilMessage("route [api] is still using it");

    // A new, empty flow; then the saved one opened again.
    clickButton("New");
    untilNodes(0);
    new Select(find("#open-flow")).selectByValue("seed");
    untilNodes(3);

    // The picture of the flow, as PNG and SVG (html-to-image in the page, under the CSP).
    clickButton("PNG");
    untilMessage("exported seed.png");
    clickButton("SVG");
    untilMessage("exported seed.svg");

    // Export the PluginFlow resource, start a new flow, import it back.
    clickButton("PluginFlow YAML");
    var yaml = find("#export-text").getAttribute("value");
    assertThat(yaml)
        .startsWith("apiVersion: archway.io/v1alpha1\nkind: PluginFlow\n")
        .contains("name: seed")
        .contains("condition: code == 401");
    clickButton("New");
    untilNodes(0);
    setValue("#import-text", yaml);
    clickButton("Import text");
    untilNodes(3);
    assertThat(find("#flow-id").getAttribute("value")).isEqualTo("seed");
    assertThat(browser.findElements(By.cssSelector(".react-flow__edge"))).hasSize(2);
    shot("5-imported");

    // The overview lists the route, now running the flow.
    clickButton("Overview");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> text("section[aria-label=Routes] tbody").contains("/api"));
    assertThat(text("section[aria-label=Routes] tbody")).contains("seed");

    assertNothingRefusedByThePolicy();
  }

  private static final String UNAUTHORIZED = "key-auth->limit-req:code == 401";
  private static final String DEFAULT = "key-auth->kafka-logger:";

  private boolean onPath(String edgeId) {
    return !browser
        .findElements(By.cssSelector("[data-testid='rf__edge-" + edgeId + "'].on-path"))
        .isEmpty();
  }

  private void untilOnPath(String edgeId) {
    await().atMost(Duration.ofSeconds(10)).until(() -> onPath(edgeId));
  }

  private String edgeLabel(String edgeId) {
    return String.valueOf(
        ((JavascriptExecutor) browser)
            .executeScript(
                "const e = document.querySelector(`[data-testid='rf__edge-${arguments[0]}']`);"
                    + " return e ? e.textContent : '';",
                edgeId));
  }

  /**
   * The flow with live counts at the README's size (1400×900); with {@code
   * -Dstudio.screenshot.docs=true} it also replaces {@code docs/images/studio.png}.
   */
  private void liveShot() throws Exception {
    // 1400×900 inside the page (the window's frame taken into account), scrolled to the top.
    browser.manage().window().setSize(new Dimension(1400, 900));
    var inner = (Number) ((JavascriptExecutor) browser).executeScript("return innerHeight;");
    browser.manage().window().setSize(new Dimension(1400, 900 + 900 - inner.intValue()));
    ((JavascriptExecutor) browser).executeScript("scrollTo(0, 0); document.activeElement?.blur();");
    clickButton("Fit view");
    shot("6-live");
    if (Boolean.getBoolean("studio.screenshot.docs")) {
      Files.copy(
          SHOTS.resolve("6-live.png"),
          Path.of("..", "docs", "images", "studio.png"),
          StandardCopyOption.REPLACE_EXISTING);
    }
    browser.manage().window().setSize(new Dimension(1600, 1000));
  }

  /** Until the app's message line contains {@code text}. */
  private void untilMessage(String text) {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> text("[data-testid=message]").contains(text));
  }

  /** Until the canvas draws {@code count} nodes. */
  private void untilNodes(int count) {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> browser.findElements(By.cssSelector(".react-flow__node")).size() == count);
  }

  /** The serving itself, through the admin port's handler, as a client without a key sees it. */
  private void theFilesNeedNoKeyButTheApiDoes() throws Exception {
    var redirect = call("GET", "/ui", null);
    assertThat(redirect.statusCode()).isEqualTo(301);
    assertThat(redirect.headers().firstValue("Location")).hasValue("/ui/");
    var index = call("GET", "/ui/", null);
    assertThat(index.statusCode()).isEqualTo(200);
    assertThat(index.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
    assertThat(index.headers().firstValue("Content-Security-Policy")).hasValue(StudioAssets.CSP);
    var script = index.body().replaceAll("(?s).*src=\"(/ui/assets/[^\"]+\\.js)\".*", "$1");
    assertThat(script).startsWith("/ui/assets/");
    var js = call("GET", script, null);
    assertThat(js.statusCode()).isEqualTo(200);
    assertThat(js.headers().firstValue("Cache-Control"))
        .hasValueSatisfying(c -> assertThat(c).contains("immutable"));
    assertThat(call("GET", "/ui/flows/anything", null).body()).isEqualTo(index.body());
    assertThat(call("HEAD", "/ui/", null).statusCode()).isEqualTo(200);
    assertThat(call("POST", "/ui/", null).statusCode()).isEqualTo(405);
    assertThat(call("GET", "/ui/%2e%2e/apisix/admin/routes", null).statusCode()).isEqualTo(400);
    assertThat(call("GET", "/apisix/admin/routes", null).statusCode()).isEqualTo(401);
  }

  /** Nothing the page loaded or did was refused by the Content-Security-Policy. */
  private void assertNothingRefusedByThePolicy() {
    var refused =
        browser.manage().logs().get(LogType.BROWSER).getAll().stream()
            .map(e -> e.getMessage())
            .filter(m -> m.contains("Content Security Policy"))
            .toList();
    assertThat(refused).isEmpty();
  }

  private WebElement find(String css) {
    return await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(() -> browser.findElement(By.cssSelector(css)), e -> e.isDisplayed());
  }

  private String text(String css) {
    var all = browser.findElements(By.cssSelector(css));
    return all.isEmpty() ? "" : all.get(0).getText();
  }

  private void type(String css, String value) {
    var e = find(css);
    e.sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.DELETE);
    e.sendKeys(value);
  }

  /** A long text into a React-controlled textarea at once (sendKeys types it key by key). */
  private void setValue(String css, String value) {
    var e = find(css);
    ((JavascriptExecutor) browser)
        .executeScript(
            "const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype,"
                + " 'value').set; set.call(arguments[0], arguments[1]);"
                + " arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            e,
            value);
  }

  private void clickButton(String label) {
    var xpath = "//button[normalize-space(.)='" + label + "']";
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(
            () -> {
              browser.findElement(By.xpath(xpath)).click();
              return true;
            });
  }

  private void addWithKeyboard(String plugin) {
    var search = find("#palette-search");
    search.sendKeys(Keys.chord(Keys.CONTROL, "a"), plugin);
    var item = find("[data-plugin='" + plugin + "']");
    int before = browser.findElements(By.cssSelector(".react-flow__node")).size();
    item.sendKeys(Keys.ENTER);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> browser.findElements(By.cssSelector(".react-flow__node")).size() > before);
  }

  private void dragToCanvas(WebElement item) {
    ((JavascriptExecutor) browser)
        .executeScript(
            "const [item, canvas] = arguments; const r = canvas.getBoundingClientRect();"
                + " const dt = new DataTransfer();"
                + " const at = {bubbles: true, cancelable: true, dataTransfer: dt,"
                + " clientX: r.left + r.width * 0.7, clientY: r.top + r.height * 0.6};"
                + " item.dispatchEvent(new DragEvent('dragstart', at));"
                + " canvas.dispatchEvent(new DragEvent('dragenter', at));"
                + " canvas.dispatchEvent(new DragEvent('dragover', at));"
                + " canvas.dispatchEvent(new DragEvent('drop', at));"
                + " item.dispatchEvent(new DragEvent('dragend', at));",
            item,
            find("[data-testid=canvas] .react-flow__pane"));
  }

  private void connect(String from, String to, String condition) {
    new Select(find("#connect-source")).selectByValue(from);
    new Select(find("#connect-target")).selectByValue(to);
    type("#connect-condition", condition);
    find("form[aria-label='Connect nodes'] button[type=submit]").click();
  }

  private void selectNode(String id) {
    find("[data-node='" + id + "']").click();
    find("section[aria-label='node " + id + "'] form");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !browser.findElements(By.cssSelector("[data-field]")).isEmpty());
  }

  private void shot(String name) throws Exception {
    var png = browser.getScreenshotAs(OutputType.BYTES);
    Files.write(SHOTS.resolve(name + ".png"), png);
  }

  private HttpResponse<String> admin(String method, String path) throws Exception {
    return call(method, path, KEY);
  }

  private HttpResponse<String> call(String method, String path, String key) throws Exception {
    var req =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + dataplane.servers().adminPort() + path))
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (key != null) {
      req.header("X-API-KEY", key);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  private int data(String path, String apikey) throws Exception {
    var req =
        HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + dataplane.servers().httpPort() + path));
    if (apikey != null) {
      req.header("apikey", apikey);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
