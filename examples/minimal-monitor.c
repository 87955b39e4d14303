/* A monitor in a few calls: run a guest ELF and print its exit counts. */
#include <stdio.h>
#include <pv/pv.h>
#include <pv/emu.h>

int main(int argc, char **argv)
{
	struct pv_vm_config cfg = { .ram_size = 16 << 20, .vcpus = 1, .backend = PV_BACKEND_AUTO };
	struct pv_vm *vm;
	struct pv_stats st;
	int status = 0;

	pv_emu_register(); /* optional: fall back to emulation without /dev/kvm */
	if (argc != 2 || pv_vm_create(&cfg, &vm) < 0) {
		fprintf(stderr, "usage: minimal-monitor GUEST.elf %s\n", pv_last_error());
		return 2;
	}
	if (pv_vm_load_elf(vm, argv[1]) < 0 || pv_vm_run(vm, &status) < 0) {
		fprintf(stderr, "minimal-monitor: %s\n", pv_vm_error(vm));
		pv_vm_destroy(vm);
		return 1;
	}
	pv_vm_stats(vm, -1, &st);
	printf("guest exited with %d after %llu exits (%llu hypercalls) on %s\n", status,
	       (unsigned long long)st.exits_total, (unsigned long long)st.exits[PV_EXIT_HYPERCALL],
	       pv_vm_backend(vm));
	pv_vm_destroy(vm);
	return status;
}
