//! A minimal x86-64 encoder: exactly the instruction forms the baseline
//! tier emits, each a method named after its assembly.
//!
//! Operands are 32-bit unless the name says `64`. Memory operands are
//! `[base + disp]` with a base that needs no SIB byte (not `rsp`/`r12`,
//! which the baseline never uses as a base). Jumps go to [`Label`]s, bound
//! later and patched by [`X86::finish`].
//!
//! The encodings follow the Intel SDM, volume 2: an optional `66` prefix,
//! an optional REX prefix (`0100WRXB`: W = 64-bit operand, R and B = the
//! high bit of the ModRM `reg` and `rm` registers), the opcode, a ModRM byte
//! (`mod`: 00 no displacement, 01 disp8, 10 disp32, 11 register; `reg`; `rm`)
//! and the displacement or immediate, little endian.

/// A general-purpose register, by its hardware number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gpr(u8);

/// The registers the baseline uses. `rdi` and `rsi` hold the two arguments
/// of the System V calling convention (machine and context); the others are
/// scratch registers that a function may clobber.
pub const RAX: Gpr = Gpr(0);
/// See [`RAX`].
pub const RCX: Gpr = Gpr(1);
/// See [`RAX`].
pub const RDX: Gpr = Gpr(2);
/// See [`RAX`].
pub const RSI: Gpr = Gpr(6);
/// See [`RAX`].
pub const RDI: Gpr = Gpr(7);
/// See [`RAX`].
pub const R8: Gpr = Gpr(8);
/// See [`RAX`].
pub const R9: Gpr = Gpr(9);
/// See [`RAX`].
pub const R10: Gpr = Gpr(10);
/// See [`RAX`].
pub const R11: Gpr = Gpr(11);
/// Caller-saved registers the baseline keeps a value in across
/// instructions: the host address of an access group.
pub const GROUP_REGS: [Gpr; 3] = [R9, R10, R11];

/// A condition code (the low nibble of `jcc`, `setcc`, `cmovcc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    /// Unsigned below.
    B = 0x2,
    /// Unsigned above or equal.
    Ae = 0x3,
    /// Unsigned below or equal.
    Be = 0x6,
    /// Unsigned above.
    A = 0x7,
    /// Equal.
    E = 0x4,
    /// Not equal.
    Ne = 0x5,
    /// Signed less.
    L = 0xc,
    /// Signed greater or equal.
    Ge = 0xd,
}

/// The ALU operations of the `01`..`39` opcode rows, with their `/digit`
/// for the immediate form (`81 /digit id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alu {
    /// `add`
    Add = 0,
    /// `or`
    Or = 1,
    /// `and`
    And = 4,
    /// `sub`
    Sub = 5,
    /// `xor`
    Xor = 6,
    /// `cmp`
    Cmp = 7,
}

impl Alu {
    /// The `op r/m32, r32` opcode: `/digit * 8 + 1`.
    fn rm_reg(self) -> u8 {
        (self as u8) << 3 | 1
    }
}

/// Shifts (`D3 /digit` by `cl`, `C1 /digit ib` by a constant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shift {
    /// `shl`
    Shl = 4,
    /// `shr`
    Shr = 5,
    /// `sar`
    Sar = 7,
}

/// A jump target in the code being assembled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(usize);

/// The code being assembled.
#[derive(Default)]
pub struct X86 {
    buf: Vec<u8>,
    /// Byte offset of each label, once bound.
    labels: Vec<Option<usize>>,
    /// `rel32` fields to patch: (their byte offset, target).
    fixups: Vec<(usize, Label)>,
}

impl X86 {
    /// A fresh label, to bind later.
    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Bind `label` to the current position.
    pub fn bind(&mut self, label: Label) {
        self.labels[label.0] = Some(self.buf.len());
    }

    /// The machine code, with every jump patched; `None` if a label was
    /// never bound (a bug in the emitter, reported rather than run).
    pub fn finish(mut self) -> Option<Vec<u8>> {
        for (at, label) in std::mem::take(&mut self.fixups) {
            let target = self.labels[label.0]?;
            let rel = i32::try_from(target as i64 - (at as i64 + 4)).ok()?;
            self.buf[at..at + 4].copy_from_slice(&rel.to_le_bytes());
        }
        Some(self.buf)
    }

    fn rex(&mut self, w: bool, reg: u8, rm: u8) {
        let rex = 0x40 | u8::from(w) << 3 | (reg >> 3 & 1) << 2 | (rm >> 3 & 1);
        if rex != 0x40 {
            self.buf.push(rex);
        }
    }

    fn imm32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// `op reg, rm` with a register `rm` (ModRM mod 11).
    fn reg_reg(&mut self, w: bool, op: &[u8], reg: u8, rm: Gpr) {
        self.rex(w, reg, rm.0);
        self.buf.extend_from_slice(op);
        self.buf.push(0xc0 | (reg & 7) << 3 | (rm.0 & 7));
    }

    /// `op reg, [base + disp]`, with the shortest displacement.
    fn reg_mem(&mut self, w: bool, op: &[u8], reg: u8, base: Gpr, disp: i32) {
        debug_assert!(base.0 & 7 != 4, "rsp/r12 as a base need a SIB byte");
        self.rex(w, reg, base.0);
        self.buf.extend_from_slice(op);
        let modrm = (reg & 7) << 3 | (base.0 & 7);
        // mod 00 with rbp/r13 means rip-relative: those take a disp8 of 0.
        if disp == 0 && base.0 & 7 != 5 {
            self.buf.push(modrm);
        } else if let Ok(d) = i8::try_from(disp) {
            self.buf.push(0x40 | modrm);
            self.buf.push(d as u8);
        } else {
            self.buf.push(0x80 | modrm);
            self.imm32(disp);
        }
    }

    /// `mov dst, [base + disp]`
    pub fn load(&mut self, dst: Gpr, base: Gpr, disp: i32) {
        self.reg_mem(false, &[0x8b], dst.0, base, disp);
    }

    /// `movzx dst, byte [base + disp]`
    pub fn load_u8(&mut self, dst: Gpr, base: Gpr, disp: i32) {
        self.reg_mem(false, &[0x0f, 0xb6], dst.0, base, disp);
    }

    /// `movsx dst, byte [base + disp]`
    pub fn load_i8(&mut self, dst: Gpr, base: Gpr, disp: i32) {
        self.reg_mem(false, &[0x0f, 0xbe], dst.0, base, disp);
    }

    /// `movzx dst, word [base + disp]`
    pub fn load_u16(&mut self, dst: Gpr, base: Gpr, disp: i32) {
        self.reg_mem(false, &[0x0f, 0xb7], dst.0, base, disp);
    }

    /// `movsx dst, word [base + disp]`
    pub fn load_i16(&mut self, dst: Gpr, base: Gpr, disp: i32) {
        self.reg_mem(false, &[0x0f, 0xbf], dst.0, base, disp);
    }

    /// `mov [base + disp], src`
    pub fn store(&mut self, base: Gpr, disp: i32, src: Gpr) {
        self.reg_mem(false, &[0x89], src.0, base, disp);
    }

    /// `mov dst, [base + disp]` on 64 bits
    pub fn load64(&mut self, dst: Gpr, base: Gpr, disp: i32) {
        self.reg_mem(true, &[0x8b], dst.0, base, disp);
    }

    /// `mov word [base + disp], src`
    pub fn store16(&mut self, base: Gpr, disp: i32, src: Gpr) {
        self.buf.push(0x66);
        self.reg_mem(false, &[0x89], src.0, base, disp);
    }

    /// `mov byte [base + disp], src` (`src` is `al`/`cl`/`dl`/`bl`: without
    /// a REX prefix, numbers 4-7 would mean `ah`..`bh`).
    pub fn store8(&mut self, base: Gpr, disp: i32, src: Gpr) {
        debug_assert!(src.0 < 4, "only al/cl/dl/bl");
        self.reg_mem(false, &[0x88], src.0, base, disp);
    }

    /// `mov dword [base + disp], imm`
    pub fn store_imm(&mut self, base: Gpr, disp: i32, imm: i32) {
        self.reg_mem(false, &[0xc7], 0, base, disp);
        self.imm32(imm);
    }

    /// `add qword [base + disp], imm`
    pub fn add64_mem_imm(&mut self, base: Gpr, disp: i32, imm: i32) {
        self.reg_mem(true, &[0x81], 0, base, disp);
        self.imm32(imm);
    }

    /// `mov dst, imm`
    pub fn mov_imm(&mut self, dst: Gpr, imm: i32) {
        self.rex(false, 0, dst.0);
        self.buf.push(0xb8 | (dst.0 & 7));
        self.imm32(imm);
    }

    /// `mov dst, src` (the upper half of `dst` becomes 0)
    pub fn mov(&mut self, dst: Gpr, src: Gpr) {
        self.reg_reg(false, &[0x89], src.0, dst);
    }

    /// `op dst, src`
    pub fn alu(&mut self, op: Alu, dst: Gpr, src: Gpr) {
        self.reg_reg(false, &[op.rm_reg()], src.0, dst);
    }

    /// `op dst, imm`
    pub fn alu_imm(&mut self, op: Alu, dst: Gpr, imm: i32) {
        self.reg_reg(false, &[0x81], op as u8, dst);
        self.imm32(imm);
    }

    /// `op dst, [base + disp]` (the `r32, r/m32` form: opcode + 2)
    pub fn alu_mem(&mut self, op: Alu, dst: Gpr, base: Gpr, disp: i32) {
        self.reg_mem(false, &[op.rm_reg() + 2], dst.0, base, disp);
    }

    /// `op dword [base + disp], imm`
    pub fn alu_mem_imm(&mut self, op: Alu, base: Gpr, disp: i32, imm: i32) {
        self.reg_mem(false, &[0x81], op as u8, base, disp);
        self.imm32(imm);
    }

    /// `op dst, src` on 64 bits
    pub fn alu64(&mut self, op: Alu, dst: Gpr, src: Gpr) {
        self.reg_reg(true, &[op.rm_reg()], src.0, dst);
    }

    /// `op dst, [base + disp]` on 64 bits
    pub fn alu64_mem(&mut self, op: Alu, dst: Gpr, base: Gpr, disp: i32) {
        self.reg_mem(true, &[op.rm_reg() + 2], dst.0, base, disp);
    }

    /// `add dst, [base + disp]` on 64 bits
    pub fn add64_mem(&mut self, dst: Gpr, base: Gpr, disp: i32) {
        self.reg_mem(true, &[0x03], dst.0, base, disp);
    }

    /// `mov dst, src` on 64 bits
    pub fn mov64(&mut self, dst: Gpr, src: Gpr) {
        self.reg_reg(true, &[0x89], src.0, dst);
    }

    /// `add dst, src` on 64 bits
    pub fn add64(&mut self, dst: Gpr, src: Gpr) {
        self.reg_reg(true, &[0x01], src.0, dst);
    }

    /// `lea dst, [base + disp]` (32-bit result)
    pub fn lea(&mut self, dst: Gpr, base: Gpr, disp: i32) {
        self.reg_mem(false, &[0x8d], dst.0, base, disp);
    }

    /// `shift dst, cl`
    pub fn shift_cl(&mut self, op: Shift, dst: Gpr) {
        self.reg_reg(false, &[0xd3], op as u8, dst);
    }

    /// `shift dst, n`
    pub fn shift_imm(&mut self, op: Shift, dst: Gpr, n: u8) {
        self.reg_reg(false, &[0xc1], op as u8, dst);
        self.buf.push(n);
    }

    /// `shr dst, n` on 64 bits
    pub fn shr64_imm(&mut self, dst: Gpr, n: u8) {
        self.reg_reg(true, &[0xc1], Shift::Shr as u8, dst);
        self.buf.push(n);
    }

    /// `imul dst, src`
    pub fn imul(&mut self, dst: Gpr, src: Gpr) {
        self.reg_reg(false, &[0x0f, 0xaf], dst.0, src);
    }

    /// `imul dst, src` on 64 bits (the low 64 bits of the product)
    pub fn imul64(&mut self, dst: Gpr, src: Gpr) {
        self.reg_reg(true, &[0x0f, 0xaf], dst.0, src);
    }

    /// `movsxd dst, src`: sign-extend 32 to 64 bits
    pub fn movsxd(&mut self, dst: Gpr, src: Gpr) {
        self.reg_reg(true, &[0x63], dst.0, src);
    }

    /// `setcc dst8` (`dst` is `al`/`cl`/`dl`/`bl`, see [`X86::store8`])
    pub fn setcc(&mut self, cond: Cond, dst: Gpr) {
        debug_assert!(dst.0 < 4, "only al/cl/dl/bl");
        self.reg_reg(false, &[0x0f, 0x90 | cond as u8], 0, dst);
    }

    /// `cmovcc dst, src`
    pub fn cmov(&mut self, cond: Cond, dst: Gpr, src: Gpr) {
        self.reg_reg(false, &[0x0f, 0x40 | cond as u8], dst.0, src);
    }

    /// `jcc label` (rel32)
    pub fn jcc(&mut self, cond: Cond, label: Label) {
        self.buf.extend_from_slice(&[0x0f, 0x80 | cond as u8]);
        self.fixups.push((self.buf.len(), label));
        self.imm32(0);
    }

    /// `jmp target` (an absolute address in a register)
    pub fn jmp_reg(&mut self, target: Gpr) {
        self.reg_reg(false, &[0xff], 4, target);
    }

    /// `jmp qword [base + disp]` (an absolute address in memory)
    pub fn jmp_mem(&mut self, base: Gpr, disp: i32) {
        self.reg_mem(false, &[0xff], 4, base, disp);
    }

    /// `ret`
    pub fn ret(&mut self) {
        self.buf.push(0xc3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(f: impl FnOnce(&mut X86)) -> Vec<u8> {
        let mut a = X86::default();
        f(&mut a);
        a.finish().expect("labels bound")
    }

    /// Encodings checked against the Intel SDM (and GNU as output).
    #[test]
    fn encodes_each_form_as_the_manual_does() {
        assert_eq!(bytes(|a| a.load(RAX, RDI, 0x100)), [0x8b, 0x87, 0x00, 0x01, 0x00, 0x00]);
        assert_eq!(bytes(|a| a.load(R8, RSI, 8)), [0x44, 0x8b, 0x46, 0x08]);
        assert_eq!(bytes(|a| a.load(RDX, RCX, 0)), [0x8b, 0x11]);
        assert_eq!(bytes(|a| a.load_u8(RDX, RCX, 0)), [0x0f, 0xb6, 0x11]);
        assert_eq!(bytes(|a| a.load_i16(RDX, RCX, 0)), [0x0f, 0xbf, 0x11]);
        assert_eq!(bytes(|a| a.store(RDI, -4, RCX)), [0x89, 0x4f, 0xfc]);
        assert_eq!(bytes(|a| a.store16(RCX, 0, RDX)), [0x66, 0x89, 0x11]);
        assert_eq!(bytes(|a| a.store8(RCX, 0, RDX)), [0x88, 0x11]);
        assert_eq!(bytes(|a| a.store_imm(RSI, 16, 7)), [0xc7, 0x46, 0x10, 7, 0, 0, 0]);
        assert_eq!(bytes(|a| a.add64_mem_imm(RDI, 0x200, 3)), [0x48, 0x81, 0x87, 0x00, 0x02, 0, 0, 3, 0, 0, 0]);
        assert_eq!(bytes(|a| a.mov_imm(RAX, 1)), [0xb8, 1, 0, 0, 0]);
        assert_eq!(bytes(|a| a.mov_imm(R8, 1)), [0x41, 0xb8, 1, 0, 0, 0]);
        assert_eq!(bytes(|a| a.mov(RAX, RCX)), [0x89, 0xc8]);
        assert_eq!(bytes(|a| a.alu(Alu::Add, RAX, RCX)), [0x01, 0xc8]);
        assert_eq!(bytes(|a| a.alu(Alu::Sub, RAX, RCX)), [0x29, 0xc8]);
        assert_eq!(bytes(|a| a.alu(Alu::Xor, RDX, RDX)), [0x31, 0xd2]);
        assert_eq!(bytes(|a| a.alu(Alu::Cmp, RAX, RCX)), [0x39, 0xc8]);
        assert_eq!(bytes(|a| a.alu_imm(Alu::And, RAX, -2)), [0x81, 0xe0, 0xfe, 0xff, 0xff, 0xff]);
        assert_eq!(bytes(|a| a.alu_imm(Alu::Cmp, RAX, 5)), [0x81, 0xf8, 5, 0, 0, 0]);
        assert_eq!(bytes(|a| a.alu_mem(Alu::Cmp, RDX, RAX, 0x58)), [0x3b, 0x50, 0x58]);
        assert_eq!(bytes(|a| a.alu_mem(Alu::Add, RCX, RAX, 0x5c)), [0x03, 0x48, 0x5c]);
        assert_eq!(bytes(|a| a.add64_mem(RCX, RSI, 0)), [0x48, 0x03, 0x0e]);
        assert_eq!(bytes(|a| a.add64(RAX, RDI)), [0x48, 0x01, 0xf8]);
        assert_eq!(bytes(|a| a.lea(RDX, RCX, 3)), [0x8d, 0x51, 0x03]);
        assert_eq!(bytes(|a| a.lea(R8, RDX, 0x1000)), [0x44, 0x8d, 0x82, 0x00, 0x10, 0, 0]);
        assert_eq!(bytes(|a| a.shift_cl(Shift::Sar, RAX)), [0xd3, 0xf8]);
        assert_eq!(bytes(|a| a.shift_imm(Shift::Shl, RAX, 3)), [0xc1, 0xe0, 3]);
        assert_eq!(bytes(|a| a.shr64_imm(RAX, 32)), [0x48, 0xc1, 0xe8, 32]);
        assert_eq!(bytes(|a| a.imul(RAX, RCX)), [0x0f, 0xaf, 0xc1]);
        assert_eq!(bytes(|a| a.imul64(RAX, RCX)), [0x48, 0x0f, 0xaf, 0xc1]);
        assert_eq!(bytes(|a| a.movsxd(RAX, RAX)), [0x48, 0x63, 0xc0]);
        assert_eq!(bytes(|a| a.setcc(Cond::L, RDX)), [0x0f, 0x9c, 0xc2]);
        assert_eq!(bytes(|a| a.cmov(Cond::Ne, RDX, R8)), [0x41, 0x0f, 0x45, 0xd0]);
        assert_eq!(bytes(|a| a.ret()), [0xc3]);
        assert_eq!(bytes(|a| a.mov64(GROUP_REGS[0], RCX)), [0x49, 0x89, 0xc9]);
        assert_eq!(bytes(|a| a.load(RDX, GROUP_REGS[2], 12)), [0x41, 0x8b, 0x53, 0x0c]);
        assert_eq!(bytes(|a| a.alu_mem(Alu::Cmp, GROUP_REGS[1], RAX, 0x58)), [0x44, 0x3b, 0x50, 0x58]);
        // The baseline chain stub's forms.
        assert_eq!(bytes(|a| a.load64(R10, RSI, 8)), [0x4c, 0x8b, 0x56, 0x08]);
        assert_eq!(bytes(|a| a.alu64_mem(Alu::Sub, R10, RDI, 0x18110)), [0x4c, 0x2b, 0x97, 0x10, 0x81, 0x01, 0x00]);
        assert_eq!(bytes(|a| a.alu64(Alu::Cmp, R11, R10)), [0x4d, 0x39, 0xd3]);
        assert_eq!(bytes(|a| a.alu64(Alu::Or, R9, R9)), [0x4d, 0x09, 0xc9]);
        assert_eq!(bytes(|a| a.alu_mem_imm(Alu::Cmp, RSI, 0x30, 0)), [0x81, 0x7e, 0x30, 0, 0, 0, 0]);
        assert_eq!(bytes(|a| a.alu_mem_imm(Alu::Sub, R8, 4, 1)), [0x41, 0x81, 0x68, 0x04, 1, 0, 0, 0]);
        assert_eq!(bytes(|a| a.jmp_reg(R9)), [0x41, 0xff, 0xe1]);
        assert_eq!(bytes(|a| a.jmp_mem(RSI, 0x40)), [0xff, 0x66, 0x40]);
    }

    #[test]
    fn jumps_are_patched_relative_to_their_end() {
        let code = bytes(|a| {
            let l = a.label();
            a.jcc(Cond::Ne, l);
            a.ret();
            a.bind(l);
            a.ret();
        });
        assert_eq!(code, [0x0f, 0x85, 1, 0, 0, 0, 0xc3, 0xc3]);
        let mut a = X86::default();
        let never = a.label();
        a.jcc(Cond::E, never);
        assert!(a.finish().is_none(), "an unbound label is an error, not a jump to 0");
    }
}
