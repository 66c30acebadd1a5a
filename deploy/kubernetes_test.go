package deploy_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/gatehouse-dev/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// manifests decodes every file of kubernetes/ strictly (an unknown or misspelled
// field, a duplicate field or a wrong type is an error) into its API type.
type manifests struct {
	deploy  *appsv1.Deployment
	service *corev1.Service
	config  *corev1.ConfigMap
	pdb     *policyv1.PodDisruptionBudget
}

func loadManifests(t *testing.T) manifests {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var m manifests
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("\n---")) {
			t.Fatalf("%s: one object per file", f)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(data, &tm); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 Deployment":
			m.deploy = &appsv1.Deployment{}
			obj = m.deploy
		case "v1 Service":
			m.service = &corev1.Service{}
			obj = m.service
		case "v1 ConfigMap":
			m.config = &corev1.ConfigMap{}
			obj = m.config
		case "policy/v1 PodDisruptionBudget":
			m.pdb = &policyv1.PodDisruptionBudget{}
			obj = m.pdb
		default:
			t.Fatalf("%s: unexpected %s %s", f, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict(data, obj); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if m.deploy == nil || m.service == nil || m.config == nil || m.pdb == nil {
		t.Fatalf("want a Deployment, Service, ConfigMap and PodDisruptionBudget, got %+v", m)
	}
	return m
}

// TestKubernetesStrictDecoding: a misspelled field is an error, so the decoding that
// TestKubernetesManifests relies on is not vacuous.
func TestKubernetesStrictDecoding(t *testing.T) {
	var d appsv1.Deployment
	err := yaml.UnmarshalStrict([]byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replica: 2\n"), &d)
	if err == nil || !strings.Contains(err.Error(), "replica") {
		t.Errorf("a misspelled field: %v, want it named", err)
	}
}

// TestKubernetesManifests: the objects agree with each other and with the
// configuration in the ConfigMap, which `gatehouse check` accepts.
func TestKubernetesManifests(t *testing.T) {
	m := loadManifests(t)
	pod := m.deploy.Spec.Template
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	port := func(name string) int {
		for _, p := range c.Ports {
			if p.Name == name {
				return int(p.ContainerPort)
			}
		}
		t.Errorf("the container has no port named %q", name)
		return 0
	}

	// The configuration: what the container is told to read, from the ConfigMap.
	if !slices.Equal(c.Args, []string{"serve", "--config", "/etc/gatehouse/gatehouse.yaml"}) {
		t.Errorf("args %q", c.Args)
	}
	src, ok := m.config.Data["gatehouse.yaml"]
	if !ok {
		t.Fatal("the ConfigMap has no gatehouse.yaml")
	}
	file := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := cli.Main(context.Background(), []string{"check", file}, cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}); code != 0 {
		t.Fatalf("gatehouse check of the ConfigMap's file: exit %d\n%s", code, stderr.String())
	}
	cfg, err := config.Parse("configmap.yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	mounts := map[string]string{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.MountPath] = vm.Name
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	if v := volumes[mounts["/etc/gatehouse"]]; v.ConfigMap == nil || v.ConfigMap.Name != m.config.Name {
		t.Errorf("/etc/gatehouse is not the ConfigMap %q: %+v", m.config.Name, v)
	}
	if cfg.Cache == nil || cfg.Cache.Disk == nil {
		t.Fatal("the configuration has no disk cache")
	}
	cache := volumes[mounts[cfg.Cache.Disk.Path]]
	if cache.EmptyDir == nil || cache.EmptyDir.SizeLimit == nil || cache.EmptyDir.SizeLimit.Value() <= int64(cfg.Cache.Disk.MaxSize) {
		t.Errorf("cache.disk.path %s: want an emptyDir larger than max_size %d, got %+v", cfg.Cache.Disk.Path, cfg.Cache.Disk.MaxSize, cache)
	}

	// Listeners: on every address, on the container's ports.
	for _, l := range []struct{ key, addr, port string }{{"server.listen", cfg.Server.Listen, "http"}, {"admin.listen", cfg.Admin.Listen, "metrics"}} {
		host, p, err := net.SplitHostPort(l.addr)
		if err != nil || (host != "0.0.0.0" && host != "" && host != "::") || p != strconv.Itoa(port(l.port)) {
			t.Errorf("%s %q: want every address, port %d (the container's %q)", l.key, l.addr, port(l.port), l.port)
		}
	}

	// Probes and scraping on the admin port.
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "metrics" {
			t.Errorf("%s probe %+v, want GET %s on port metrics", p.name, p.probe, p.path)
		}
	}
	ann := pod.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/path"] != "/metrics" || ann["prometheus.io/port"] != strconv.Itoa(port("metrics")) {
		t.Errorf("scrape annotations %v", ann)
	}

	// Non-root, read-only root filesystem, no privileges; the image's user.
	psc, sc := pod.Spec.SecurityContext, c.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 {
		t.Errorf("pod securityContext %+v: want runAsNonRoot, user 65532 (the image's)", psc)
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("container securityContext %+v", sc)
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g == nil || *g <= int64(cfg.Server.ShutdownTimeout.Seconds()) {
		t.Errorf("terminationGracePeriodSeconds %v: want more than server.shutdown_timeout %v", g, cfg.Server.ShutdownTimeout)
	}

	// Selectors: the Service and the budget select the Deployment's pods.
	podLabels := labels.Set(pod.Labels)
	sel, err := metav1.LabelSelectorAsSelector(m.deploy.Spec.Selector)
	if err != nil || !sel.Matches(podLabels) {
		t.Errorf("the Deployment's selector does not match its pods: %v", err)
	}
	if !labels.SelectorFromSet(m.service.Spec.Selector).Matches(podLabels) {
		t.Errorf("the Service selects %v, not the pods %v", m.service.Spec.Selector, pod.Labels)
	}
	for _, p := range m.service.Spec.Ports {
		port(p.TargetPort.String())
		if p.TargetPort.String() == "metrics" {
			t.Errorf("the Service exposes the admin port")
		}
	}
	pdbSel, err := metav1.LabelSelectorAsSelector(m.pdb.Spec.Selector)
	if err != nil || !pdbSel.Matches(podLabels) {
		t.Errorf("the PodDisruptionBudget does not select the pods: %v", err)
	}
	if m.pdb.Spec.MinAvailable == nil || m.deploy.Spec.Replicas == nil || m.pdb.Spec.MinAvailable.IntValue() >= int(*m.deploy.Spec.Replicas) {
		t.Errorf("minAvailable %v with %v replicas: a drain could never evict one", m.pdb.Spec.MinAvailable, m.deploy.Spec.Replicas)
	}
}

// TestRegression_ConfigMapInternalRouteBehindIngress: the ConfigMap's IP-guarded route
// allowed 10.0.0.0/8 with no trusted proxies, so behind an in-cluster ingress (a peer
// inside 10/8) every internet client was let in. Through the ingress, the client is the
// address the ingress forwards; the ingress's own address opens nothing.
func TestRegression_ConfigMapInternalRouteBehindIngress(t *testing.T) {
	m := loadManifests(t)
	file := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(file, []byte(m.config.Data["gatehouse.yaml"]), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE") // explain builds the S3 origin; it never calls it
	t.Setenv("AWS_SECRET_ACCESS_KEY", "example")
	explain := func(peer, forwarded string) int {
		var stdout, stderr bytes.Buffer
		args := []string{"explain", "--config", file, "/internal/report.txt", "--client-ip", peer}
		if forwarded != "" {
			args = append(args, "-H", "X-Forwarded-For: "+forwarded)
		}
		code := cli.Main(context.Background(), args, cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
		t.Logf("peer %s, X-Forwarded-For %q: exit %d\n%s%s", peer, forwarded, code, stdout.String(), stderr.String())
		return code
	}
	for _, c := range []struct {
		peer, forwarded string
		want            int
	}{
		{"10.244.1.7", "203.0.113.7", 2}, // an internet client through the ingress
		{"10.244.1.7", "", 2},            // the ingress itself, or a pod
		{"10.244.1.7", "192.0.2.10", 0},  // the office, through the ingress
		{"203.0.113.7", "192.0.2.10", 2}, // a forged header from outside the cluster
	} {
		if got := explain(c.peer, c.forwarded); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: exit %d, want %d", c.peer, c.forwarded, got, c.want)
		}
	}
}
