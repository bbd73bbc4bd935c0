package com.metropia.portal.messaging.dev;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;

import com.metropia.portal.messaging.lint.RouteLint;
import org.apache.camel.CamelContext;
import org.apache.camel.RouteConfigurationsBuilder;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteConfigurationDefinition;
import org.apache.camel.model.RouteTemplateDefinition;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.slf4j.LoggerFactory;

/**
 * Reloads a route file of the embedded run when it is saved, templates and templated routes included (Camel 4.17's
 * own reload leaves templated routes as they were). The saved files are linted first: a broken edit is logged as
 * {@code file:line:column: message} and the routes already running keep serving.
 */
public class RouteFileReloader extends ServiceSupport {

    private static final Logger LOG = LoggerFactory.getLogger(RouteFileReloader.class);

    private final CamelContext context;
    private final Path directory;
    /** Per file, the text of the version running now. */
    private final Map<Path, String> lastGood = new ConcurrentHashMap<>();
    private WatchService watcher;
    private Thread thread;

    public RouteFileReloader(CamelContext context, Path directory) {
        this.context = context;
        this.directory = directory.toAbsolutePath();
    }

    @Override
    protected void doStart() throws IOException {
        for (Path file : RouteLint.routeFiles(directory)) {
            lastGood.put(file.toAbsolutePath(), Files.readString(file));
        }
        watcher = FileSystems.getDefault().newWatchService();
        directory.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
        thread = new Thread(this::watch, "route-file-reloader");
        thread.setDaemon(true);
        thread.start();
        LOG.info("Saving a file in {} reloads its routes", directory);
    }

    @Override
    protected void doStop() throws IOException {
        watcher.close();
    }

    private void watch() {
        try {
            while (true) {
                WatchKey key = watcher.take();
                Set<Path> changed = new LinkedHashSet<>();
                do {
                    for (WatchEvent<?> event : key.pollEvents()) {
                        Path file = directory.resolve((Path) event.context());
                        if (file.getFileName().toString().endsWith(".camel.yaml")) {
                            changed.add(file);
                        }
                    }
                    key.reset();
                    // an editor's save can come as several events: take them all before reloading once
                    key = watcher.poll(300, java.util.concurrent.TimeUnit.MILLISECONDS);
                } while (key != null);
                for (Path file : changed) {
                    reload(file);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ClosedWatchServiceException e) {
            // stopped
        }
    }

    synchronized void reload(Path file) {
        try {
            String text = Files.exists(file) ? Files.readString(file) : "";
            if (text.isBlank() || text.equals(lastGood.get(file))) {
                return;
            }
            List<RouteLint.Problem> problems = RouteLint.lint(RouteLint.routeFiles(directory));
            if (!problems.isEmpty()) {
                problems.forEach(problem -> LOG.warn("{}", problem));
                LOG.warn("{} not reloaded: the routes already running keep serving", file.getFileName());
                return;
            }
            String previous = lastGood.get(file);
            Set<String> ids = new LinkedHashSet<>(idsDefinedIn(text));
            if (previous != null) {
                ids.addAll(idsDefinedIn(previous));
            }
            remove(ids);
            try {
                add(file, text);
                lastGood.put(file, text);
                LOG.info("Reloaded {}", file.getFileName());
            } catch (Exception e) {
                LOG.error("Reloading {} failed: {}", file.getFileName(), e.getMessage(), e);
                if (previous != null) {
                    remove(ids);
                    add(file, previous);
                    LOG.warn("{}: the previous version is running again", file.getFileName());
                }
            }
        } catch (Exception e) {
            LOG.error("Reloading {} failed: {}", file.getFileName(), e.getMessage(), e);
        }
    }

    private void add(Path file, String text) throws Exception {
        Resource resource = ResourceHelper.fromString("file:" + file, text);
        List<RoutesBuilder> builders = new ArrayList<>(PluginHelper.getRoutesLoader(context).findRoutesBuilders(resource));
        for (RoutesBuilder builder : builders) {
            if (builder instanceof RouteConfigurationsBuilder configurations) {
                context.addRoutesConfigurations(configurations);
            }
        }
        for (RoutesBuilder builder : builders) {
            context.addRoutes(builder);
        }
        // Camel's own reload misses this step, which is why templated routes did not come back
        for (RoutesBuilder builder : builders) {
            builder.addTemplatedRoutesToCamelContext(context);
        }
    }

    /** The ids of the routes, templated routes, templates and route configurations a YAML file defines. */
    @SuppressWarnings("unchecked")
    static Set<String> idsDefinedIn(String yaml) {
        Set<String> ids = new LinkedHashSet<>();
        for (Object document : new Load(LoadSettings.builder().build()).loadAllFromString(yaml)) {
            if (!(document instanceof List<?> items)) {
                continue;
            }
            for (Object item : items) {
                if (item instanceof Map<?, ?> entry) {
                    entry.forEach((kind, definition) -> {
                        if (definition instanceof Map<?, ?> fields) {
                            Object id = "templatedRoute".equals(kind) ? fields.get("routeId") : fields.get("id");
                            if (id != null) {
                                ids.add(id.toString());
                            }
                        }
                    });
                }
            }
        }
        return ids;
    }

    private void remove(Set<String> ids) throws Exception {
        for (String id : ids) {
            if (context.getRoute(id) != null) {
                context.getRouteController().stopRoute(id);
                context.removeRoute(id);
            }
        }
        ModelCamelContext model = (ModelCamelContext) context;
        for (RouteTemplateDefinition template : List.copyOf(model.getRouteTemplateDefinitions())) {
            if (ids.contains(template.getId())) {
                model.removeRouteTemplateDefinition(template);
            }
        }
        for (RouteConfigurationDefinition configuration : List.copyOf(model.getRouteConfigurationDefinitions())) {
            if (ids.contains(configuration.getId())) {
                model.removeRouteConfiguration(configuration);
            }
        }
    }
}
